"""Counts what a screenshot shows inside given boxes: the report page test's proof that the charts drew.

Usage: page_pixels.py SCREENSHOT.png BOXES.json
BOXES.json: {"name": {"box": [x, y, width, height], "colours": ["#1f77b4", ...]}, ...} in CSS pixels
(the screenshot is taken at a device scale factor of 1).
Prints {"width", "height", "boxes": {"name": {"coloured": n, "matching": m}}} where `coloured` counts
saturated pixels (chart marks, not text or grid lines, which are grey) and `matching` the pixels within
a small distance of one of the box's colours. Only the standard library: zlib decodes the PNG.
"""
import json
import struct
import sys
import zlib


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit(f"{path} is not a PNG")
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    if depth != 8 or colour_type not in (2, 6) or interlace != 0:
        raise SystemExit(f"unsupported PNG: depth {depth}, colour type {colour_type}, interlace {interlace}")
    bpp = 3 if colour_type == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, previous, at = [], bytes(stride), 0
    for _ in range(height):
        kind, line = raw[at], bytearray(raw[at + 1 : at + 1 + stride])
        at += 1 + stride
        if kind == 1:
            for x in range(bpp, stride):
                line[x] = (line[x] + line[x - bpp]) & 255
        elif kind == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, previous))
        elif kind == 3:
            for x in range(stride):
                left = line[x - bpp] if x >= bpp else 0
                line[x] = (line[x] + ((left + previous[x]) >> 1)) & 255
        elif kind == 4:
            for x in range(stride):
                a = line[x - bpp] if x >= bpp else 0
                b = previous[x]
                c = previous[x - bpp] if x >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        previous = line
    return width, height, bpp, rows


def rgb(text):
    text = text.lstrip("#")
    return tuple(int(text[i : i + 2], 16) for i in (0, 2, 4))


def main():
    width, height, bpp, rows = read_png(sys.argv[1])
    boxes = json.load(open(sys.argv[2]))
    result = {}
    for name, spec in boxes.items():
        x, y, w, h = (int(round(v)) for v in spec["box"])
        colours = [rgb(c) for c in spec.get("colours", [])]
        coloured = matching = 0
        for row in rows[max(y, 0) : min(y + h, height)]:
            for column in range(max(x, 0), min(x + w, width)):
                r, g, b = row[column * bpp : column * bpp + 3]
                if max(r, g, b) - min(r, g, b) > 60:
                    coloured += 1
                if any(abs(r - cr) + abs(g - cg) + abs(b - cb) <= 24 for cr, cg, cb in colours):
                    matching += 1
        result[name] = {"coloured": coloured, "matching": matching}
    print(json.dumps({"width": width, "height": height, "boxes": result}))


main()
