"""Synthetic print damage painted on clean photos, at the photo's own size, with its mask.

``damage_example(photo, rng)`` turns a clean RGB crop (float32 (H, W, 3) in [0, 1]) into an
old print (grey, sepia or faded colour, lifted blacks, grain: the *clean print*, the fill's
target) and paints damage over it (the *damaged print*, the detector's and fill's input):

- long gently bent scratches, light or dark, 1-3 px wide, opacity varying along them;
- emulsion cracks: jagged random walks with branches, fine (0.6-1.6 px) and cream, some in
  dense networks like ``real_world/old_scratch_a``, some with a dark shadow beside them;
- dust specks (light and dark) and hairs; foxing (soft brown spots);
- creases: a light line beside a dark one, broken along its length;
- torn corners and edges and missing patches showing paper (cream, faintly textured).

Light damage blends by screen, dark by multiply, as a scratch on a print does. The mask is
the ground truth: a pixel is damaged where the damage changed it by more than ``MASK_LEVEL``
on any channel. Hard negatives go into the *clean* print before the damage, so they are in
the target and not in the mask: thin straight wires and poles (dark or light, perfectly
straight, even in colour), bright rims along the photo's own edges (collars, petals) and
small shaded objects, bright or dark (bows, cigarettes, buttons).
Real thin content in the photos (CamVid's poles and wires) is a negative too.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from segsr_gui.training.degrade import gaussian_kernel, blur, jpeg, to_gray, to_sepia

MASK_LEVEL = 0.03  # 8 grey levels: a change below it is no visible damage
SS = 4  # strokes are drawn 4x larger and shrunk with area averaging: fractional widths


def old_print(photo: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A clean photo as an old print: tone (grey 45 %, sepia 35 %, colour), slight blur,
    faded contrast with lifted blacks, film grain. (H, W, 3) float32 in [0, 1]."""
    tone = int(rng.choice(3, p=[0.45, 0.35, 0.2]))
    img = (to_gray, to_sepia, lambda x: x)[tone](photo)
    if rng.random() < 0.6:
        img = blur(img, gaussian_kernel(7, rng.uniform(0.3, 1.0), rng.uniform(0.3, 1.0), rng.uniform(-3, 3)))
    contrast, black = rng.uniform(0.6, 1.0), rng.uniform(0.0, 0.12)
    img = black + contrast * img + (1 - contrast - black) * 0.5 * rng.uniform(0, 1)
    grain = rng.normal(0, rng.uniform(0.005, 0.035), img.shape[:2] + (1,))
    return np.clip(img + grain, 0, 1).astype(np.float32)


def _shrink(canvas: np.ndarray, h: int, w: int) -> np.ndarray:
    return cv2.resize(canvas, (w, h), interpolation=cv2.INTER_AREA)


def _bent_path(rng, h, w, length, bend, jag, start=None, angle=None, step=2.0):
    """Points (N, 2) of a path in photo pixels: heading drifts by ``bend`` per step (smooth
    curve) and jumps by ``jag`` (jagged crack)."""
    x, y = start if start is not None else (rng.uniform(0, w), rng.uniform(0, h))
    a = rng.uniform(0, 2 * math.pi) if angle is None else angle
    turn = rng.normal(0, bend)
    pts = [(x, y)]
    for _ in range(max(2, int(length / step))):
        turn = 0.9 * turn + rng.normal(0, bend)
        a += turn + (rng.normal(0, jag) if jag else 0.0)
        x, y = x + step * math.cos(a), y + step * math.sin(a)
        pts.append((x, y))
    return np.asarray(pts)


def _stroke(shape, pts, width, rng, fade=True, gaps=0.0) -> np.ndarray:
    """Alpha (H, W) in [0, 1] of a polyline ``pts`` ``width`` px wide, opacity varying
    smoothly along it (``fade``) and broken into pieces (``gaps`` = share missing)."""
    h, w = shape
    canvas = np.zeros((h * SS, w * SS), np.float32)
    n = len(pts)
    if fade:
        knots = rng.uniform(0.35, 1.0, max(2, n // 12 + 2))
        level = np.interp(np.linspace(0, len(knots) - 1, n), np.arange(len(knots)), knots)
    else:
        level = np.ones(n)
    if gaps > 0:
        knots = rng.random(max(2, n // 8 + 2)) > gaps
        level = level * np.repeat(knots, 8)[:n]
    thick = max(1, int(round(width * SS)))
    p = np.round(pts * SS).astype(np.int32)
    for i in range(n - 1):
        if level[i] > 0:
            cv2.line(canvas, tuple(p[i]), tuple(p[i + 1]), float(level[i]), thick, cv2.LINE_8)
    return _shrink(canvas, h, w)


def _screen(img, alpha, colour):
    return 1 - (1 - img) * (1 - alpha[..., None] * colour)


def _multiply(img, alpha, colour):
    return img * (1 - alpha[..., None] * (1 - colour))


def _light(rng, img):
    """A cream or white colour (3,) a little lighter than the print's paper."""
    base = rng.uniform(0.8, 1.0)
    return np.clip(np.array([base, base * rng.uniform(0.93, 1.0), base * rng.uniform(0.82, 1.0)]), 0, 1)


def _dark(rng):
    v = rng.uniform(0.0, 0.35)
    return np.array([v, v * rng.uniform(0.85, 1), v * rng.uniform(0.7, 1)])


def scratches(img, rng, count, even_share=0.0):
    """Long scratches; ``even_share`` of them keep one opacity end to end and no gaps, as a
    fresh scratch does (and as the straight wires of ``scene_lines`` do, so that bending is
    what tells them apart)."""
    h, w = img.shape[:2]
    for _ in range(count):
        even = bool(even_share) and rng.random() < even_share
        axis = rng.random() < 0.3  # the sample's scratches run along the print's sides
        angle = rng.integers(4) * math.pi / 2 + rng.normal(0, 0.02) if axis else None
        pts = _bent_path(rng, h, w, rng.uniform(0.4, 1.5) * max(h, w), rng.uniform(0.0, 0.008), 0.0, angle=angle)
        if rng.random() < 0.3:  # the sample's scratches jog sideways by a pixel now and then
            pts[:, 0] += np.cumsum(rng.random(len(pts)) < 0.02) * rng.choice([-1, 1])
        if even:
            alpha = _stroke((h, w), pts, rng.uniform(1.0, 3.0), rng, fade=False) * rng.uniform(0.7, 1.0)
        else:
            alpha = _stroke((h, w), pts, rng.uniform(0.7, 3.0), rng, gaps=rng.choice([0.0, 0.3]))
            alpha *= rng.uniform(0.4, 1.0)
        img = _screen(img, alpha, _light(rng, img)) if rng.random() < 0.7 else _multiply(img, alpha, _dark(rng))
    return img


def _crack_tree(rng, h, w, start, angle, length, depth, out):
    pts = _bent_path(rng, h, w, length, 0.004, rng.uniform(0.1, 0.35), start=start, angle=angle, step=1.5)
    out.append(pts)
    if depth > 0:
        for _ in range(int(rng.integers(0, 3))):
            i = int(rng.integers(1, len(pts)))
            a = angle + rng.choice([-1, 1]) * rng.uniform(0.5, 1.4)
            _crack_tree(rng, h, w, tuple(pts[i]), a, length * rng.uniform(0.3, 0.7), depth - 1, out)


def cracks(img, rng, count, dense=False):
    """Emulsion cracks: cream, fine, jagged, branching; ``dense`` makes a network of short
    ones over a region (the look of ``old_scratch_a``'s curtain)."""
    h, w = img.shape[:2]
    centre = (rng.uniform(0, w), rng.uniform(0, h))
    for _ in range(count):
        if dense:
            start = (centre[0] + rng.normal(0, w / 5), centre[1] + rng.normal(0, h / 5))
            length = rng.uniform(4, 25)
        else:
            start, length = (rng.uniform(0, w), rng.uniform(0, h)), rng.uniform(10, 60)
        paths: list = []
        _crack_tree(rng, h, w, start, rng.uniform(0, 2 * math.pi), length, 2, paths)
        width, strength = rng.uniform(0.6, 1.8), rng.uniform(0.45, 1.0)
        colour = _light(rng, img)
        shadow = rng.random() < 0.35
        for pts in paths:
            alpha = _stroke((h, w), pts, width, rng, gaps=0.15) * strength
            if shadow:  # a raised crack edge throws a thin shadow on one side
                off = pts + rng.choice([-1.0, 1.0], size=2)
                img = _multiply(img, _stroke((h, w), off, 0.8, rng) * strength * 0.6, _dark(rng))
            img = _screen(img, alpha, colour)
    return img


def specks(img, rng, count):
    """Dust specks (light and dark, 0.5-2.5 px, irregular), hairs and foxing spots."""
    h, w = img.shape[:2]
    canvas_l = np.zeros((h * SS, w * SS), np.float32)
    canvas_d = np.zeros_like(canvas_l)
    for _ in range(count):
        c = canvas_l if rng.random() < 0.6 else canvas_d
        x, y = rng.uniform(0, w * SS), rng.uniform(0, h * SS)
        r = rng.uniform(0.5, 2.5) * SS
        axes = (max(1, int(r)), max(1, int(r * rng.uniform(0.4, 1.0))))
        cv2.ellipse(c, (int(x), int(y)), axes, rng.uniform(0, 180), 0, 360, rng.uniform(0.6, 1.0), -1)
    img = _screen(img, _shrink(canvas_l, h, w), _light(rng, img))
    img = _multiply(img, _shrink(canvas_d, h, w), _dark(rng))
    for _ in range(int(rng.integers(0, 2))):  # a hair: dark, thin, curly
        pts = _bent_path(rng, h, w, rng.uniform(8, 40), 0.15, 0.0, step=1.0)
        img = _multiply(img, _stroke((h, w), pts, rng.uniform(0.6, 1.2), rng) * rng.uniform(0.5, 0.9), _dark(rng))
    for _ in range(int(rng.integers(0, 3)) if rng.random() < 0.3 else 0):
        spot = np.zeros((h, w), np.float32)
        cv2.circle(spot, (int(rng.uniform(0, w)), int(rng.uniform(0, h))), int(rng.uniform(2, 7)), 1.0, -1)
        spot = cv2.GaussianBlur(spot, (0, 0), rng.uniform(0.8, 2.0)) * rng.uniform(0.3, 0.7)
        img = _multiply(img, spot, np.array([0.75, 0.55, 0.35]))
    return img


def creases(img, rng, count):
    """A fold: a light ridge with a dark valley beside it, broken along its length."""
    h, w = img.shape[:2]
    for _ in range(count):
        pts = _bent_path(rng, h, w, rng.uniform(0.5, 1.5) * max(h, w), 0.003, 0.05, step=2.0)
        gaps = rng.uniform(0.0, 0.4)
        light = _stroke((h, w), pts, rng.uniform(0.8, 2.0), rng, gaps=gaps) * rng.uniform(0.4, 0.9)
        dark = _stroke((h, w), pts + rng.choice([-1.2, 1.2], size=2), rng.uniform(0.6, 1.5), rng, gaps=gaps)
        img = _multiply(img, dark * rng.uniform(0.2, 0.6), _dark(rng))
        img = _screen(img, light, _light(rng, img))
    return img


def torn(img, rng):
    """A torn corner or edge, or a missing patch: paper shows through, jagged border."""
    h, w = img.shape[:2]
    kind = rng.choice(3, p=[0.45, 0.35, 0.2])  # real prints lose paper mostly at the edges
    if kind == 0:  # corner
        cx, cy = rng.choice([0, w]), rng.choice([0, h])
        r = rng.uniform(0.1, 0.35) * min(h, w)
        a0 = rng.uniform(0, 2 * math.pi)
        ang = np.linspace(a0, a0 + 2 * math.pi, 40, endpoint=False)
        poly = np.stack([cx + r * rng.uniform(0.5, 1.2, 40) * np.cos(ang),
                         cy + r * rng.uniform(0.5, 1.2, 40) * np.sin(ang)], 1)
    elif kind == 1:  # along an edge: a frayed strip
        n = 30
        t = np.linspace(0, 1, n)
        depth = np.abs(np.cumsum(rng.normal(0, 1.0, n))) + rng.uniform(0.5, 3)
        side = rng.integers(4)
        along = t * (w if side < 2 else h)
        if side < 2:
            edge = 0 if side == 0 else h
            pts = np.stack([along, np.abs(edge - depth)], 1)
            poly = np.concatenate([pts, [[w, edge], [0, edge]]])
        else:
            edge = 0 if side == 2 else w
            pts = np.stack([np.abs(edge - depth), along], 1)
            poly = np.concatenate([pts, [[edge, h], [edge, 0]]])
    else:  # a missing patch in the middle
        r = rng.uniform(2, 0.12 * min(h, w) + 2)
        ang = np.linspace(0, 2 * math.pi, 20, endpoint=False)
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        poly = np.stack([cx + r * rng.uniform(0.4, 1.3, 20) * np.cos(ang),
                         cy + r * rng.uniform(0.4, 1.3, 20) * np.sin(ang)], 1)
    canvas = np.zeros((h * SS, w * SS), np.float32)
    cv2.fillPoly(canvas, [np.round(poly * SS).astype(np.int32)], 1.0)
    alpha = _shrink(canvas, h, w)
    paper = _light(rng, img) * (1 + rng.normal(0, 0.02, (h, w, 1)))
    return img * (1 - alpha[..., None]) + paper * alpha[..., None]


def scene_lines(img, rng):
    """Hard negatives drawn into the clean print: straight even wires (dark or light) and
    bright rims along the photo's own edges."""
    h, w = img.shape[:2]
    if rng.random() < 0.5:
        for _ in range(int(rng.integers(1, 4))):
            a = rng.uniform(0, math.pi)
            cx, cy = rng.uniform(0, w), rng.uniform(0, h)
            d = 2 * max(h, w)
            pts = np.array([[cx - d * math.cos(a), cy - d * math.sin(a)], [cx + d * math.cos(a), cy + d * math.sin(a)]])
            alpha = _stroke((h, w), pts, rng.uniform(0.7, 2.5), rng, fade=False) * rng.uniform(0.5, 0.95)
            v = rng.uniform(0.0, 0.3) if rng.random() < 0.7 else rng.uniform(0.75, 0.95)
            img = img * (1 - alpha[..., None]) + v * alpha[..., None]
    else:
        gray = (img.mean(2) * 255).astype(np.uint8)
        edges = cv2.Canny(gray, 60, 150) > 0
        box = np.zeros_like(edges)  # rims on one object, not on every edge of the photo
        bh, bw = int(rng.integers(h // 4, h // 2 + 1)), int(rng.integers(w // 4, w // 2 + 1))
        top, left = int(rng.integers(0, h - bh + 1)), int(rng.integers(0, w - bw + 1))
        box[top:top + bh, left:left + bw] = True
        edges &= box
        side = np.roll(edges, int(rng.choice([-1, 1])), axis=int(rng.integers(2)))
        rim = cv2.GaussianBlur(side.astype(np.float32), (0, 0), 0.5) * rng.uniform(0.3, 0.8)
        img = _screen(img, np.clip(rim, 0, 1), np.array([0.95, 0.93, 0.88]))
    return np.clip(img, 0, 1).astype(np.float32)


def scene_objects(img, rng):
    """Hard negatives drawn into the clean print: small bright or dark objects with shading
    and soft edges (a bow, a cigarette, a ring's glint, a button), not flat like paper."""
    h, w = img.shape[:2]
    for _ in range(int(rng.integers(1, 4))):
        canvas = np.zeros((h * SS, w * SS), np.float32)
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        if rng.random() < 0.5:  # a bar with round ends
            length, width = rng.uniform(6, 30), rng.uniform(1.5, 6)
            a = rng.uniform(0, math.pi)
            p0 = (cx - length / 2 * math.cos(a), cy - length / 2 * math.sin(a))
            p1 = (cx + length / 2 * math.cos(a), cy + length / 2 * math.sin(a))
            cv2.line(canvas, (int(p0[0] * SS), int(p0[1] * SS)), (int(p1[0] * SS), int(p1[1] * SS)), 1.0,
                     max(1, int(width * SS)), cv2.LINE_AA)
        else:  # a blob with a few lobes
            r = rng.uniform(3, 15)
            ang = np.linspace(0, 2 * math.pi, 12, endpoint=False)
            rad = r * (1 + 0.35 * np.sin(ang * int(rng.integers(2, 5)) + rng.uniform(0, 6)))
            poly = np.stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)], 1)
            cv2.fillPoly(canvas, [np.round(poly * SS).astype(np.int32)], 1.0)
        alpha = cv2.GaussianBlur(_shrink(canvas, h, w), (0, 0), rng.uniform(0.3, 1.0))
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        g = rng.normal(0, 1, 2)
        shade = ((xx - cx) * g[0] + (yy - cy) * g[1]) / max(h, w) * rng.uniform(0.5, 2.0)
        v = (rng.uniform(0.7, 0.95) if rng.random() < 0.7 else rng.uniform(0.05, 0.3)) + shade
        fabric = rng.normal(0, rng.uniform(0.01, 0.04), (h, w))  # grain: objects are in the print
        colour = np.clip(v + fabric, 0, 1)[..., None] * np.array([1.0, 0.97, 0.9])
        img = img * (1 - alpha[..., None]) + colour * alpha[..., None]
    return np.clip(img, 0, 1).astype(np.float32)


def damage_example(photo: np.ndarray, rng: np.random.Generator, clean_share: float = 0.15,
                   jpeg_lowest: int = 70, sharpen_share: float = 0.0, even_share: float = 0.0):
    """(damaged, clean, mask) from a clean photo crop (H, W, 3) float32 in [0, 1].

    ``damaged`` and ``clean`` are (H, W, 3) float32 in [0, 1], ``mask`` (H, W) bool.
    ``clean_share`` of the examples carry no damage (mask all False). The scan that follows
    the print touches both alike: ``sharpen_share`` of them are unsharp-masked (a scanner's
    halos), 30 % are saved as JPEG of quality ``jpeg_lowest`` to 95. ``even_share`` of the
    long scratches have one opacity along their length."""
    clean = old_print(photo, rng)
    if rng.random() < 0.3:
        clean = scene_lines(clean, rng)
    if rng.random() < 0.25:
        clean = scene_objects(clean, rng)
    img = clean.astype(np.float64)
    if rng.random() >= clean_share:
        h, w = img.shape[:2]
        area = h * w / (96 * 96)
        kinds = rng.random(5) < np.array([0.45, 0.55, 0.6, 0.2, 0.15])
        if not kinds.any():
            kinds[int(rng.integers(5))] = True
        if kinds[0]:
            img = scratches(img, rng, int(rng.integers(1, 4)), even_share)
        if kinds[1]:
            dense = rng.random() < 0.4
            img = cracks(img, rng, int(rng.integers(8, 30) if dense else rng.integers(1, 5)), dense)
        if kinds[2]:
            img = specks(img, rng, int(rng.integers(2, 25) * area))
        if kinds[3]:
            img = creases(img, rng, 1)
        if kinds[4]:
            img = torn(img, rng)
    damaged = np.clip(img, 0, 1).astype(np.float32)
    mask = np.abs(damaged - clean).max(2) > MASK_LEVEL
    if sharpen_share and rng.random() < sharpen_share:
        amount, sigma = rng.uniform(0.3, 1.2), rng.uniform(0.6, 1.5)
        damaged, clean = (np.clip(a + amount * (a - cv2.GaussianBlur(a, (0, 0), sigma)), 0, 1).astype(np.float32)
                          for a in (damaged, clean))
    if rng.random() < 0.3:  # scans saved as JPEG: the same compression for both
        q = int(rng.integers(jpeg_lowest, 96))
        damaged, clean = jpeg(damaged, q), jpeg(clean, q)
    return damaged, clean, mask
