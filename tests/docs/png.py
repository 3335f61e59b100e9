"""A minimal PNG reader for the browser tests: enough to tell a screenshot holds a page and not a blank rectangle.

Chromium writes 8-bit RGB(A), non-interlaced PNGs; that is all this reads. No imaging library is needed for it.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np


def pixels(data: bytes) -> np.ndarray:
    """The image as an array of shape (height, width, channels), uint8."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat.append(chunk)
        pos += 12 + length
    assert header is not None, "no IHDR"
    width, height, depth, color, _, _, interlace = header
    if depth != 8 or color not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG (depth {depth}, colour type {color}, interlace {interlace})")
    bpp = 3 if color == 2 else 4
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), dtype=np.uint8).reshape(height, 1 + width * bpp)
    out = np.zeros((height, width * bpp), dtype=np.uint8)
    prior = np.zeros(width * bpp, dtype=np.int32)
    for y in range(height):
        kind, line = raw[y, 0], raw[y, 1:].astype(np.int32)
        if kind == 0:
            row = line
        elif kind == 1:   # Sub: a running sum per channel
            row = np.cumsum(line.reshape(width, bpp), axis=0).reshape(-1) % 256
        elif kind == 2:   # Up
            row = (line + prior) % 256
        else:             # Average and Paeth depend on the byte just decoded: one at a time
            row = np.zeros_like(line)
            values, up = line.tolist(), prior.tolist()
            done = [0] * len(values)
            for i, v in enumerate(values):
                a = done[i - bpp] if i >= bpp else 0
                b = up[i]
                if kind == 3:
                    done[i] = (v + (a + b) // 2) % 256
                else:
                    c = up[i - bpp] if i >= bpp else 0
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    done[i] = (v + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) % 256
            row = np.array(done, dtype=np.int32)
        out[y] = row
        prior = row
    return out.reshape(height, width, bpp)


def variance(data: bytes) -> float:
    """The variance of the grey levels of a PNG: near 0 for a blank (single-colour) image."""
    image = pixels(data)[:, :, :3].astype(np.float64)
    return float(image.mean(axis=2).var())
