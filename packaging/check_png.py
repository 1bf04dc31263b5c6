"""Check that a PNG is a plausible picture: ``python3 check_png.py FILE [--size WxH] [--min WxH]``.

Standard library only (the smoke test runs it with any python3): reads the chunks, decodes and
unfilters 8-bit RGB/RGBA/grey pixels, and fails (exit 1, one line) on a wrong size, or on a
blank or nearly uniform picture. Prints the size and a few statistics on success.
"""

from __future__ import annotations

import argparse
import struct
import sys
import zlib

CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}


def read_png(path: str):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if zlib.crc32(kind + body) != struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]:
            raise ValueError(f"bad CRC in chunk {kind!r}")
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    if header is None or not idat:
        raise ValueError("no IHDR or IDAT chunk")
    width, height, depth, color, _, _, interlace = header
    if depth != 8 or color not in CHANNELS or interlace:
        raise ValueError(f"unsupported PNG layout (depth {depth}, colour type {color}, interlace {interlace})")
    bpp = CHANNELS[color]
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    if len(raw) != height * (stride + 1):
        raise ValueError("truncated pixel data")
    rows, prev = [], bytearray(stride)
    for y in range(height):
        ftype, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if ftype == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif ftype == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif ftype == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif ftype == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        elif ftype != 0:
            raise ValueError(f"bad filter type {ftype} in row {y}")
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def parse_size(text: str) -> tuple[int, int]:
    w, h = text.lower().split("x")
    return int(w), int(h)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("png")
    parser.add_argument("--size", type=parse_size, help="exact size required, WxH")
    parser.add_argument("--min", type=parse_size, default=(64, 64), help="smallest size accepted, WxH")
    parser.add_argument("--min-colours", type=int, default=64, help="distinct colours required (sampled)")
    args = parser.parse_args(argv)
    try:
        width, height, bpp, rows = read_png(args.png)
    except (OSError, ValueError, zlib.error, struct.error) as exc:
        print(f"check_png: {args.png}: {exc}")
        return 1
    if args.size and (width, height) != args.size:
        print(f"check_png: {args.png} is {width}x{height}, expected {args.size[0]}x{args.size[1]}")
        return 1
    if width < args.min[0] or height < args.min[1]:
        print(f"check_png: {args.png} is {width}x{height}, smaller than {args.min[0]}x{args.min[1]}")
        return 1
    colour = min(bpp, 3) if bpp != 2 else 1
    counts, lumas = {}, []
    for row in rows[::3]:
        for x in range(0, width, 3):
            px = row[x * bpp:x * bpp + colour]
            counts[px] = counts.get(px, 0) + 1
            lumas.append(sum(px) / len(px))
    n = len(lumas)
    mean = sum(lumas) / n
    std = (sum((v - mean) ** 2 for v in lumas) / n) ** 0.5
    top = max(counts.values()) / n
    stats = f"{width}x{height}, {len(counts)} colours sampled, luma mean {mean:.0f} std {std:.1f}, top colour {top:.0%}"
    if len(counts) < args.min_colours or std < 8 or top > 0.9:
        print(f"check_png: {args.png} looks blank or uniform ({stats})")
        return 1
    print(f"check_png: {args.png} ok ({stats})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
