"""Class maps as files: palette PNG of ids, colour overlay, JSON legend, one
black-and-white PNG per class and COCO-style RLE JSON.

Class maps are uint8 (H, W) ids at the SR image's size. They are only ever
resized with nearest neighbour; ids are never blended.
"""

from __future__ import annotations

import io
from typing import Sequence

import numpy as np
from PIL import Image


def class_ids(scores: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """(K, H, W) class scores (logits or probabilities) -> uint8 (H, W) argmax ids, the first
    on ties.

    One running maximum over the K planes with OpenCV's vectorised, GIL-free arithmetic:
    2.5x faster than the same loop in NumPy, which was already faster on a CPU than torch's
    argmax over the class dimension (a strided reduction); the live preview runs it on
    every step.
    """
    import cv2

    def plane(k: int) -> np.ndarray:
        return np.asarray(scores[k], dtype=np.float32)

    best = np.array(plane(0), dtype=np.float32)
    ids = np.zeros(best.shape, np.uint8)
    for k in range(1, scores.shape[0]):
        score = plane(k)
        wins = cv2.compare(score, best, cv2.CMP_GT)  # 255 where k is strictly better
        # every id so far is below k, so the maximum writes k exactly where k wins
        cv2.max(ids, cv2.bitwise_and(wins, k), dst=ids)
        cv2.max(best, score, dst=best)
    if out is None:
        return ids
    out[...] = ids
    return out


def palette_png(class_map: np.ndarray, palette: Sequence[Sequence[int]]) -> bytes:
    """8-bit palette PNG whose pixel values are the class ids."""
    if class_map.ndim != 2:
        raise ValueError(f"class map must be (H, W), got {class_map.shape}")
    im = Image.fromarray(class_map.astype(np.uint8), "P")
    flat = [v for colour in palette for v in colour]
    im.putpalette(flat + [0] * (768 - len(flat)))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def damage_png(damage: np.ndarray, size: tuple[int, int]) -> bytes:
    """8-bit PNG of a bool (H, W) damage map at ``size`` = (width, height), nearest neighbour:
    255 = damage found and repaired, 0 = untouched."""
    if damage.ndim != 2:
        raise ValueError(f"damage map must be (H, W), got {damage.shape}")
    im = Image.fromarray(np.where(damage, 255, 0).astype(np.uint8), "L").resize(size, Image.NEAREST)
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def colourise(class_map: np.ndarray, palette: Sequence[Sequence[int]],
              visible: Sequence[bool] | None = None) -> np.ndarray:
    """uint8 (H, W, 3) colours of a class map; hidden classes are black."""
    lut = np.zeros((256, 3), np.uint8)
    lut[:len(palette)] = np.asarray(palette, np.uint8)
    if visible is not None:
        lut[:len(visible)][~np.asarray(visible, bool)] = 0
    return lut[class_map]


def overlay(rgb: np.ndarray, class_map: np.ndarray, palette: Sequence[Sequence[int]],
            opacity: float = 0.5, visible: Sequence[bool] | None = None) -> np.ndarray:
    """uint8 (H, W, 3): class colours blended over an RGB float image in [0, 1]."""
    base = np.clip(rgb, 0, 1) * 255
    colours = colourise(class_map, palette, visible).astype(np.float32)
    mask = np.ones(class_map.shape, bool)
    if visible is not None:
        mask = np.asarray(visible, bool)[class_map]
    out = np.where(mask[..., None], (1 - opacity) * base + opacity * colours, base)
    return np.round(out).astype(np.uint8)


def class_counts(class_map: np.ndarray, num_classes: int) -> np.ndarray:
    """Pixel count per class id 0..K-1."""
    if num_classes <= 32:  # one comparison per class beats bincount's widening of every id
        return np.array([np.count_nonzero(class_map == k) for k in range(num_classes)], dtype=np.int64)
    return np.bincount(class_map.ravel(), minlength=num_classes)[:num_classes]


def class_fractions(class_map: np.ndarray, num_classes: int) -> np.ndarray:
    """Each class id's share of the map's pixels (0..1; all zero for an empty map)."""
    return class_counts(class_map, num_classes) / max(1, class_map.size)


def legend(class_map: np.ndarray, classes: Sequence[str], palette: Sequence[Sequence[int]],
           model_name: str, model_sha256: str | None = None, strength: dict | None = None,
           damaged_share: float | None = None) -> dict:
    """The JSON legend: id, name, colour, pixel count and share per class, model name, the
    restoration strength the photo was made with (value 0..1, whether Auto chose it, the damage it
    read, whether it read a toned print), and the share of the photo the repair filled (None
    when no repair ran)."""
    counts = class_counts(class_map, len(classes))
    total = max(1, int(class_map.size))
    return {
        "model": model_name,
        "model_sha256": model_sha256,
        "restoration_strength": strength,
        "damaged_share": damaged_share,
        "width": int(class_map.shape[1]),
        "height": int(class_map.shape[0]),
        "classes": [{"id": i, "name": name, "color": list(map(int, palette[i])),
                     "pixels": int(counts[i]), "share": round(int(counts[i]) / total, 6)}
                    for i, name in enumerate(classes)],
    }


def resize_class_map(class_map: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """uint8 (H, W) ids resized to ``size`` = (width, height) with nearest neighbour only:
    ids are labels, never blended."""
    if class_map.ndim != 2:
        raise ValueError(f"class map must be (H, W), got {class_map.shape}")
    if (class_map.shape[1], class_map.shape[0]) == tuple(size):
        return class_map
    return np.asarray(Image.fromarray(class_map.astype(np.uint8), "L").resize(size, Image.NEAREST))


def safe_name(name: str) -> str:
    """A class name as a file-name part: ``sign/symbol`` -> ``sign-symbol``."""
    cleaned = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in name.strip().lower())
    return cleaned.strip("-") or "class"


def class_mask_pngs(class_map: np.ndarray, classes: Sequence[str]) -> dict[str, bytes]:
    """One 1-bit black-and-white PNG per class present (white = the class), keyed by
    the file-name suffix ``mask_<id>_<name>``."""
    out = {}
    for class_id in np.unique(class_map):
        if class_id >= len(classes):
            continue
        buf = io.BytesIO()
        Image.fromarray(class_map == class_id).save(buf, "PNG")
        out[f"mask_{int(class_id):02d}_{safe_name(classes[class_id])}"] = buf.getvalue()
    return out


def rle_counts(mask: np.ndarray) -> list[int]:
    """Run lengths of a boolean (H, W) mask in column-major order, starting with a run
    of zeros (COCO's convention, as pycocotools)."""
    flat = np.asarray(mask, bool).ravel(order="F")
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    counts = np.diff(np.concatenate([[0], change, [flat.size]])).tolist()
    return ([0] + counts) if flat.size and flat[0] else counts


def rle_encode(mask: np.ndarray, compressed: bool = False) -> dict:
    """COCO RLE of a boolean (H, W) mask: ``{"size": [H, W], "counts": ...}``. Uncompressed
    counts are a list of ints; compressed counts are pycocotools' ASCII string (each count
    minus the one two places back, in 5-bit groups offset by 48), several times smaller."""
    counts = rle_counts(mask)
    size = [int(mask.shape[0]), int(mask.shape[1])]
    if not compressed:
        return {"size": size, "counts": [int(c) for c in counts]}
    out = bytearray()
    for i, x in enumerate(counts):
        if i > 2:
            x -= counts[i - 2]
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = x != -1 if c & 0x10 else x != 0
            out.append((c | 0x20 if more else c) + 48)
    return {"size": size, "counts": out.decode("ascii")}


def rle_decode(rle: dict) -> np.ndarray:
    """Inverse of ``rle_encode`` (either form): boolean (H, W)."""
    h, w = rle["size"]
    counts = rle["counts"]
    if isinstance(counts, str):
        data, counts, p = counts.encode("ascii"), [], 0
        while p < len(data):
            x = k = 0
            more = True
            while more:
                c = data[p] - 48
                x |= (c & 0x1F) << (5 * k)
                more = bool(c & 0x20)
                p += 1
                k += 1
                if not more and c & 0x10:
                    x |= -1 << (5 * k)
            if len(counts) > 2:
                x += counts[-2]
            counts.append(x)
    values = np.arange(len(counts)) % 2 == 1
    return np.repeat(values, counts).reshape((h, w), order="F")


def coco_json(class_map: np.ndarray, classes: Sequence[str], palette: Sequence[Sequence[int]],
              image_file: str, model_name: str, model_sha256: str | None = None) -> dict:
    """COCO-style segmentation of one image: every class present becomes one annotation with
    a compressed RLE mask (pycocotools' string form; ``iscrowd`` 1, as COCO marks RLE
    masks). Category ids are the class ids of the palette PNG."""
    h, w = class_map.shape
    annotations = []
    for class_id in np.unique(class_map):
        if class_id >= len(classes):
            continue
        mask = class_map == class_id
        rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
        annotations.append({
            "id": len(annotations) + 1, "image_id": 1, "category_id": int(class_id),
            "segmentation": rle_encode(mask, compressed=True), "area": int(mask.sum()),
            "bbox": [int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)],
            "iscrowd": 1,
        })
    return {
        "info": {"description": "SegSR class map", "model": model_name, "model_sha256": model_sha256},
        "images": [{"id": 1, "file_name": image_file, "width": int(w), "height": int(h)}],
        "categories": [{"id": i, "name": name, "color": list(map(int, palette[i]))}
                       for i, name in enumerate(classes)],
        "annotations": annotations,
    }
