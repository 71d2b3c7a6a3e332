#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Draws the printer icons a printer share advertises in printer-icons (PWG 5100.13: 48x48,
# 128x128 and 512x512 PNG) into web/icons/, where the console route serves them
# (/console/icons/printer-SIZE.png). Standard library only; run it again after changing the
# drawing: scripts/make-icons.py [OUTDIR]
import struct
import sys
import zlib

OUT = sys.argv[1] if len(sys.argv) > 1 else "web/icons"
SS = 4  # supersampling per axis for smooth edges

# Shapes on a 0..1 square: (x0, y0, x1, y1, corner radius, RGBA), painted in order.
SHAPES = [
    (0.26, 0.08, 0.74, 0.40, 0.02, (250, 250, 250, 255)),   # paper going in
    (0.28, 0.10, 0.72, 0.38, 0.00, (250, 250, 250, 255)),
    (0.08, 0.32, 0.92, 0.74, 0.08, (47, 84, 150, 255)),     # body
    (0.08, 0.32, 0.92, 0.42, 0.06, (66, 110, 186, 255)),    # top edge highlight
    (0.74, 0.48, 0.84, 0.54, 0.02, (120, 220, 140, 255)),   # status light
    (0.20, 0.60, 0.80, 0.92, 0.02, (255, 255, 255, 255)),   # paper coming out
    (0.28, 0.68, 0.72, 0.70, 0.00, (150, 160, 175, 255)),   # printed lines
    (0.28, 0.75, 0.66, 0.77, 0.00, (150, 160, 175, 255)),
    (0.28, 0.82, 0.70, 0.84, 0.00, (150, 160, 175, 255)),
]
OUTLINE = (30, 50, 90, 255)


def inside(x, y, s):
    x0, y0, x1, y1, r, _ = s
    if x < x0 or x > x1 or y < y0 or y > y1:
        return False
    cx = min(max(x, x0 + r), x1 - r)
    cy = min(max(y, y0 + r), y1 - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r + 1e-12


def color_at(x, y, px):
    c = None
    for i, s in enumerate(SHAPES):
        if inside(x, y, s):
            # a thin outline around the body and the papers
            edge = 1.2 * px
            grown = (s[0] + edge, s[1] + edge, s[2] - edge, s[3] - edge, max(s[4] - edge, 0), s[5])
            c = s[5] if (i not in (0, 2, 5) or inside(x, y, grown)) else OUTLINE
    return c


def draw(size):
    rows = []
    px = 1.0 / size
    for j in range(size):
        row = bytearray([0])  # filter: none
        for i in range(size):
            acc = [0, 0, 0, 0]
            for sj in range(SS):
                for si in range(SS):
                    c = color_at((i + (si + 0.5) / SS) * px, (j + (sj + 0.5) / SS) * px, px)
                    if c:
                        a = c[3]
                        acc[0] += c[0] * a
                        acc[1] += c[1] * a
                        acc[2] += c[2] * a
                        acc[3] += a
            n = SS * SS
            alpha = acc[3] / n
            if acc[3]:
                row += bytes([round(acc[0] / acc[3]), round(acc[1] / acc[3]),
                              round(acc[2] / acc[3]), round(alpha)])
            else:
                row += b"\0\0\0\0"
        rows.append(bytes(row))
    return b"".join(rows)


def chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data +
            struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def png(size):
    ihdr = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
            chunk(b"IDAT", zlib.compress(draw(size), 9)) + chunk(b"IEND", b""))


for size in (48, 128, 512):
    with open(f"{OUT}/printer-{size}.png", "wb") as f:
        f.write(png(size))
    print(f"{OUT}/printer-{size}.png")
