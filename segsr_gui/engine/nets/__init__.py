"""Network architectures, one per file, listed in a small name-to-class table."""

from segsr_gui.engine.nets.segdm import SegDM
from segsr_gui.engine.nets.srdm import SRDM

NETS = {"srdm": SRDM, "segdm": SegDM}


def get_net(name: str):
    try:
        return NETS[name]
    except KeyError:
        raise KeyError(f"no net named {name!r} in NETS (known: {sorted(NETS)})") from None


__all__ = ["NETS", "SRDM", "SegDM", "get_net"]
