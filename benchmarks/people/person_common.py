"""What the person benchmarks share: switching a loaded model's person prior on and off."""

from __future__ import annotations

from dataclasses import replace


def prior_switch(loaded):
    """A function ``switch(on)`` that attaches or detaches the person prior of ``loaded``'s
    model (the installed selfie net; the config switched on as ``segsr add-person-prior``
    does), so one model object runs both rows."""
    from segsr_gui.classes import PERSON_ID
    from segsr_gui.engine.nets.weights import PERSON_PRIOR_FILE, find_pretrained, load_selfie_net

    model = loaded.model
    net = model.person_net
    if net is None:
        path, why = find_pretrained(PERSON_PRIOR_FILE, None, "the person prior", "selfie")
        if path is None:
            raise SystemExit(why)
        net = load_selfie_net(path)
    base = model.config

    def switch(on: bool, window: int | None = None, merge: str | None = None, weight: float | None = None,
               gate: tuple | None = None) -> None:
        if on:
            model.config = replace(base, person_prior="selfie", person_class=PERSON_ID,
                                   person_window=base.person_window if window is None else window,
                                   person_merge=merge or base.person_merge,
                                   person_weight=base.person_weight if weight is None else weight,
                                   person_gate=base.person_gate if gate is None else tuple(gate))
            model.attach_person_prior(net)
        else:
            model._external.pop("person", None)

    return switch
