# SPDX-License-Identifier: MIT
"""pngread - a tiny pure-Python PNG decoder (8-bit greyscale/RGB/RGBA, non-interlaced), enough
to check that a chart rendered by rsvg-convert has the expected size and is not blank."""
import struct
import zlib


def read_png(path):
    """Returns (width, height, channels, rows) where rows is a list of bytearrays."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    width, height, depth, ctype, _, _, interlace = header
    if depth != 8 or interlace != 0 or ctype not in (0, 2, 6):
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {ctype}")
    ch = {0: 1, 2: 3, 6: 4}[ctype]
    raw = zlib.decompress(idat)
    stride = width * ch
    rows, prev, p = [], bytearray(stride), 0
    for _ in range(height):
        ftype, line = raw[p], bytearray(raw[p + 1:p + 1 + stride])
        p += 1 + stride
        for i in range(stride):
            a = line[i - ch] if i >= ch else 0
            b = prev[i]
            c = prev[i - ch] if i >= ch else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 0xFF
            elif ftype == 2:
                line[i] = (line[i] + b) & 0xFF
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif ftype == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        rows.append(line)
        prev = line
    return width, height, ch, rows


def pixel_counts(path, colour=None, tol=40):
    """(width, height, non-white pixels, pixels near colour (r, g, b))."""
    w, h, ch, rows = read_png(path)
    non_white = near = 0
    for row in rows:
        for x in range(w):
            px = row[x * ch:x * ch + ch]
            r, g, b = (px[0], px[0], px[0]) if ch == 1 else (px[0], px[1], px[2])
            if ch == 4 and px[3] == 0:
                continue
            if min(r, g, b) < 245:
                non_white += 1
            if colour and abs(r - colour[0]) + abs(g - colour[1]) + abs(b - colour[2]) <= tol:
                near += 1
    return w, h, non_white, near
