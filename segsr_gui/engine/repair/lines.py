"""Long straight scratches along the print's sides, found on the detector's probability map.

A scratch dragged in by a roller or a film gate runs straight along one side of the print for
much of its length. The detector reads a straight, even line as a wire or a pole (its training
shows it such lines as negatives, at any angle), so such a scratch often stays just under the
detection threshold. Here, lines of weaker probability that are long, nearly parallel to a side
of the photo, unbroken, and alone (the probability beside them is low; a row of specks across
foliage is not alone) are marked as damage too. Lines on the photo's outermost pixels are left
to the detector: there its map shows the border, not the print. The limits are chosen on
validation (``benchmarks/repair/straight_scratches.py``): the widest angle and the shortest
length that cost CamVid val with the repair recipe's damage and wires no precision.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

SEED = 0.3  # probability that makes a pixel part of a candidate line
ALONG = 0.2  # probability a pixel of a found line needs to be marked
LENGTH = 0.25  # shortest line, as a share of the photo's shorter side
COVER = 0.8  # share of the line's length that must be candidate pixels (1-px tolerance)
AXIS_DEG = 17.0  # largest angle to a side of the photo
BESIDE = 0.25  # highest mean probability on a parallel line OFFSETS px to either side
OFFSETS = (4, 5, 6, 7)
WIDTH = 3  # px of the band marked along a line
BUSY = 0.3  # share of candidate pixels above which a map is not searched


def straight_scratches(prob: np.ndarray, axis_deg: float = AXIS_DEG, shortest: float = LENGTH) -> np.ndarray:
    """(H, W) bool: pixels of long straight lines along the photo's sides in ``prob`` (H, W):
    within ``axis_deg`` of a side, at least ``shortest`` of the shorter side long."""
    h, w = prob.shape
    found = np.zeros((h, w), bool)
    length = int(shortest * min(h, w))
    if length < 16:
        return found
    # candidates grown by a pixel: the Hough walk loses a 1-px line that steps sideways
    near = cv2.dilate((prob > SEED).astype(np.uint8), np.ones((3, 3), np.uint8))
    if near.mean() > BUSY:  # no line stands alone on such a map, and the Hough step would crawl
        return found
    segments = cv2.HoughLinesP(near * 255, 1, np.pi / 360, threshold=max(10, length // 2), minLineLength=length,
                               maxLineGap=4)
    if segments is None:
        return found
    for x1, y1, x2, y2 in segments.reshape(-1, 4).tolist():
        angle = math.degrees(math.atan2(abs(y2 - y1), abs(x2 - x1)))
        if min(angle, 90 - angle) > axis_deg:
            continue
        across = 0 if angle < 45 else 1  # the axis a parallel line is shifted along
        place, size = ((y1 + y2) / 2, h) if across == 0 else ((x1 + x2) / 2, w)
        if not max(OFFSETS) <= place < size - max(OFFSETS):
            continue
        n = max(abs(x2 - x1), abs(y2 - y1)) + 1  # the line's pixels, one per step along it
        ys = np.round(np.linspace(y1, y2, n)).astype(int)
        xs = np.round(np.linspace(x1, x2, n)).astype(int)
        if near[ys, xs].mean() < COVER:
            continue
        shift = lambda d: (np.clip(ys + d, 0, h - 1), xs) if across == 0 else (ys, np.clip(xs + d, 0, w - 1))
        if max(prob[shift(s * d)].mean() for d in OFFSETS for s in (-1, 1)) > BESIDE:
            continue
        for d in range(-(WIDTH // 2), WIDTH // 2 + 1):  # a band WIDTH px across the line
            by, bx = shift(d)
            found[by, bx] |= prob[by, bx] > ALONG
    return found
