"""Hand edits of a damage map (segsr_gui.app.damage_edit): the brush adds, the eraser removes,
strokes join their points, stay inside the photo, and undo/redo step through them."""

import numpy as np
import pytest

from segsr_gui.app.damage_edit import MAX_UNDO, DamageEdit


def _stroke(edit, add, size, *points):
    edit.begin(add, size)
    for x, y in points:
        edit.paint_to(x, y)
    edit.end()


def test_the_run_map_is_copied_not_changed():
    run_map = np.zeros((10, 12), bool)
    edit = DamageEdit(run_map)
    _stroke(edit, True, 3, (5.5, 5.5))
    assert not run_map.any() and edit.mask.any() and edit.edited


def test_a_brush_dab_is_a_disc_of_its_diameter():
    edit = DamageEdit(np.zeros((20, 20), bool))
    _stroke(edit, True, 6, (10.0, 10.0))  # centre on a pixel corner: a 6-wide disc around it
    ys, xs = np.nonzero(edit.mask)
    assert xs.min() == 7 and xs.max() == 12 and ys.min() == 7 and ys.max() == 12
    assert edit.mask.sum() == 32  # a disc: the 6x6 square without its four corners
    assert not edit.mask[7, 7] and not edit.mask[12, 12] and edit.mask[8, 7] and edit.mask[10, 10]


def test_a_one_pixel_brush_marks_the_pixel_under_it():
    edit = DamageEdit(np.zeros((6, 6), bool))
    _stroke(edit, True, 1, (3.95, 1.02))
    assert np.argwhere(edit.mask).tolist() == [[1, 3]]


def test_points_of_a_stroke_are_joined_without_gaps():
    edit = DamageEdit(np.zeros((10, 40), bool))
    _stroke(edit, True, 1, (2.5, 4.5), (37.5, 4.5))  # two far points: one line between them
    assert edit.mask[4, 2:38].all() and edit.mask.sum() == 36


def test_the_last_box_holds_what_the_last_segment_changed():
    """The window redraws only that box while a stroke goes on."""
    edit = DamageEdit(np.zeros((30, 40), bool))
    edit.begin(True, 3)
    edit.paint_to(5.0, 5.0)
    before = edit.mask.copy()
    edit.paint_to(25.0, 12.0)
    y0, y1, x0, x1 = edit.last_box
    changed = np.argwhere(edit.mask != before)
    assert len(changed) and (changed.min(0) >= (y0, x0)).all() and (changed.max(0) < (y1, x1)).all()
    assert (y1 - y0) * (x1 - x0) < edit.mask.size / 3  # a box, not the photo
    edit.end()


def test_the_eraser_removes_damage():
    edit = DamageEdit(np.ones((8, 8), bool))
    _stroke(edit, False, 2, (0.5, 3.5), (7.5, 3.5))
    assert not edit.mask[3].any() and edit.mask[0].all() and edit.mask[7].all()


def test_strokes_outside_the_photo_are_clipped():
    edit = DamageEdit(np.zeros((5, 5), bool))
    _stroke(edit, True, 3, (-10.0, -10.0), (-3.0, 2.5))
    assert not edit.mask.any() and not edit.can_undo  # nothing changed: no undo step
    _stroke(edit, True, 4, (5.0, 5.0))  # on the corner: only the quarter inside
    assert edit.mask[4, 4] and edit.mask[3, 4] and edit.mask[4, 3] and edit.mask.sum() == 3


def test_undo_and_redo_step_through_strokes():
    edit = DamageEdit(np.zeros((10, 10), bool))
    _stroke(edit, True, 2, (2.0, 2.0))
    first = edit.mask.copy()
    _stroke(edit, True, 2, (7.0, 7.0))
    second = edit.mask.copy()
    _stroke(edit, False, 10, (2.0, 2.0))
    third = edit.mask.copy()
    assert not np.array_equal(second, third)
    assert edit.undo() and np.array_equal(edit.mask, second)
    assert edit.undo() and np.array_equal(edit.mask, first)
    assert edit.undo() and not edit.mask.any() and not edit.edited
    assert not edit.undo()
    assert edit.redo() and np.array_equal(edit.mask, first)
    assert edit.redo() and np.array_equal(edit.mask, second)
    _stroke(edit, True, 1, (0.5, 9.5))  # a new stroke after undo drops what could be redone
    assert not edit.can_redo and not edit.redo()
    assert edit.undo() and np.array_equal(edit.mask, second)


def test_undo_during_a_stroke_finishes_it_first():
    edit = DamageEdit(np.zeros((6, 6), bool))
    edit.begin(True, 2)
    edit.paint_to(3.0, 3.0)
    assert edit.undo() and not edit.mask.any() and not edit.stroking


def test_undo_keeps_the_last_strokes_only():
    edit = DamageEdit(np.zeros((4, MAX_UNDO + 10), bool))
    for x in range(MAX_UNDO + 10):
        _stroke(edit, True, 1, (x + 0.5, 0.5))
    while edit.undo():
        pass
    assert edit.mask[0, :10].all() and not edit.mask[0, 10:].any()


def test_painting_needs_a_stroke_and_a_map_needs_two_dimensions():
    edit = DamageEdit(np.zeros((4, 4), bool))
    with pytest.raises(RuntimeError):
        edit.paint_to(1, 1)
    with pytest.raises(ValueError):
        DamageEdit(np.zeros((4, 4, 3), bool))


def test_a_mask_is_the_users_once_painted_or_when_it_came_from_the_user():
    detected = np.zeros((6, 6), bool)
    detected[2, :] = True
    edit = DamageEdit(detected)
    assert not edit.users
    _stroke(edit, True, 1, (0.5, 0.5))
    assert edit.users
    edit.undo()
    assert not edit.users  # back to the detected map
    given = DamageEdit(detected, painted=True)
    assert given.users and not given.edited
    _stroke(given, False, 1, (0.5, 2.5))
    given.forget()  # "Detect again"
    assert not given.users and np.array_equal(given.mask, detected) and not given.can_undo
