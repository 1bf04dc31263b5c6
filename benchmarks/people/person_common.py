"""What the person benchmarks share: switching a loaded model's person prior on and off."""

from __future__ import annotations

from dataclasses import replace


def prior_switch(loaded):
    """A function ``switch(on, window=None, gate=None)`` that attaches or detaches the person
    prior of ``loaded``'s model (the installed selfie net), so one model object runs both rows.
    ``window`` overrides the px windows the prior reads; ``gate=False`` runs it without the scene
    gate (the prior speaks on every photo, street scenes too)."""
    from segsr_gui.engine.nets.weights import PERSON_PRIOR_FILE, find_pretrained, load_selfie_net

    model = loaded.model
    if model.classes is None or model.classes.config.person is None:
        raise SystemExit(f"{loaded.name} has no person prior in its manifest (segsr add-person-prior adds one)")
    chain = model.classes
    net = chain.person_net
    if net is None:
        path, why = find_pretrained(PERSON_PRIOR_FILE, None, "the person prior", "selfie")
        if path is None:
            raise SystemExit(why)
        net = load_selfie_net(path)
    base, scene = chain.config, chain.scene

    def switch(on: bool, window: int | None = None, gate: bool = True) -> None:
        chain.config = replace(base, person=replace(base.person, window=base.person.window if window is None else window))
        chain.scene = scene if gate else None  # without the scene module the gate is open (1) everywhere
        if on:
            chain.attach_person(net)
        else:
            chain._external.pop("person", None)

    return switch
