import pytest

from segsr_gui.engine.inference.drain import drain


def _counting(log):
    try:
        for i in range(3):
            yield i
        return "result"
    finally:
        log.append("closed")


def test_drain_returns_the_generators_value_and_reports_each_item():
    seen, log = [], []
    assert drain(_counting(log), seen.append) == "result"
    assert seen == [0, 1, 2] and log == ["closed"]


def test_a_callback_that_raises_closes_the_generator_first():
    log = []

    def stop_at_one(item):
        if item == 1:
            log.append("stop")
            raise KeyError("cancel")

    with pytest.raises(KeyError):
        drain(_counting(log), stop_at_one)
    assert log == ["stop", "closed"]
