"""The straight-scratch step on the detector's map (engine/repair/lines.py)."""
import cv2
import numpy as np

from segsr_gui.engine.repair.lines import straight_scratches


def _map(angle_deg=1.0, length=150, level=0.6, ground=0.02, at=(100, 20), h=200, w=200):
    prob = np.full((h, w), ground, np.float32)
    y, x = at
    a = np.radians(angle_deg)
    end = (int(round(x + length * np.cos(a))), int(round(y + length * np.sin(a))))
    cv2.line(prob, (x, y), end, level, 1)
    return prob


def test_a_long_line_along_a_side_is_marked_though_under_the_threshold():
    prob = _map()
    found = straight_scratches(prob)
    on_line = prob > 0.5
    assert (found & on_line).sum() >= 0.9 * on_line.sum()
    assert found.sum() <= 3 * on_line.sum()  # a narrow band, not a region
    vertical = straight_scratches(_map().T.copy())
    assert vertical.sum() > 0.9 * found.sum()


def test_lines_that_are_steep_short_broken_or_on_the_border_are_left():
    assert not straight_scratches(_map(angle_deg=30)).any()
    assert not straight_scratches(_map(length=40)).any()
    broken = _map()
    for start in range(30, 170, 20):  # 8 px missing of every 20: less than COVER of the line is left
        broken[:, start:start + 8] = 0.02
    assert not straight_scratches(broken).any()
    assert not straight_scratches(_map(at=(0, 20))).any()


def test_a_row_of_specks_in_busy_ground_is_not_a_line():
    rng = np.random.default_rng(0)
    prob = _map(level=0.9)
    prob[60:140] = np.maximum(prob[60:140], rng.uniform(0.2, 0.8, (80, 200)).astype(np.float32))
    assert not straight_scratches(prob).any()


def test_a_busy_map_is_not_searched():
    prob = _map(level=0.9)
    prob[::2, ::2] = np.maximum(prob[::2, ::2], 0.5)  # candidates everywhere once grown by a pixel
    assert not straight_scratches(prob).any()
