#!/usr/bin/python3
"""Write PNG fixtures with Pillow, plus the decoded pixels probkit must get
(IDX u8 files, H x W or H x W x C), and malformed PNGs that must be rejected.

Run: /usr/bin/python3 tests/ref/io_png.py   (writes tests/fixtures/core/png-*)
"""
import os
import struct
import zlib

import numpy as np
from PIL import Image

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "core")


def write_idx(path, a):
    a = np.ascontiguousarray(a, dtype=np.uint8)
    with open(path, "wb") as f:
        f.write(bytes([0, 0, 8, a.ndim]) + struct.pack(">" + "I" * a.ndim, *a.shape))
        f.write(a.tobytes())


def case(name, img, expect, **save):
    img.save(os.path.join(OUT, f"png-{name}.png"), **save)
    write_idx(os.path.join(OUT, f"png-{name}.expect.idx"), expect)


def chunk(kind, data):
    c = kind + data
    return struct.pack(">I", len(data)) + c + struct.pack(">I", zlib.crc32(c))


def main():
    rng = np.random.default_rng(7)
    g = rng.integers(0, 256, (5, 7), dtype=np.uint8)
    case("gray", Image.fromarray(g, "L"), g)
    rgb = rng.integers(0, 256, (4, 6, 3), dtype=np.uint8)
    case("rgb", Image.fromarray(rgb, "RGB"), rgb)
    rgba = rng.integers(0, 256, (3, 5, 4), dtype=np.uint8)
    case("rgba", Image.fromarray(rgba, "RGBA"), rgba)
    case("gray-interlaced", Image.fromarray(g, "L"), g, interlace=1)
    # 16-bit grey: probkit scales to 8 bits by rounding v * 255 / 65535
    g16 = rng.integers(0, 65536, (3, 4)).astype(np.uint16)
    g16[0, :4] = [0, 65535, 128, 32896]
    case("gray16", Image.fromarray(g16.astype(np.int32), "I").convert("I;16"),
         np.floor(g16.astype(np.float64) * 255 / 65535 + 0.5))
    # 1-bit
    b = rng.integers(0, 2, (6, 9), dtype=np.uint8)
    case("bilevel", Image.fromarray(b * 255, "L").convert("1"), b * 255)
    # palette, without and with transparency
    pal = np.array([[0, 0, 0], [255, 0, 0], [0, 128, 255], [10, 20, 30]], dtype=np.uint8)
    idx = rng.integers(0, 4, (4, 5), dtype=np.uint8)
    im = Image.fromarray(idx, "P")
    im.putpalette(pal.flatten().tolist())
    case("palette", im, pal[idx])
    alpha = np.array([255, 0, 128, 255], dtype=np.uint8)
    rgba_p = np.concatenate([pal[idx], alpha[idx][..., None]], axis=2)
    case("palette-trns", im, rgba_p, transparency=bytes(alpha))

    good = open(os.path.join(OUT, "png-gray.png"), "rb").read()
    bad = {}
    bad["bad-png-truncated.png"] = good[: len(good) - 20]
    bad["bad-png-signature.png"] = b"\x89PNX" + good[4:]
    crc = bytearray(good)
    crc[29] ^= 0xFF  # IHDR CRC
    bad["bad-png-crc.png"] = bytes(crc)
    sig = good[:8]
    idat = chunk(b"IDAT", zlib.compress(b"\0" * 10))
    iend = chunk(b"IEND", b"")
    bad["bad-png-huge.png"] = sig + chunk(b"IHDR", struct.pack(">IIBBBBB", 900000, 900000, 8, 0, 0, 0, 0)) + idat + iend
    bad["bad-png-zero.png"] = sig + chunk(b"IHDR", struct.pack(">IIBBBBB", 0, 5, 8, 0, 0, 0, 0)) + idat + iend
    bad["bad-png-depth.png"] = sig + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 7, 0, 0, 0, 0)) + idat + iend
    # valid header, IDAT inflates to fewer bytes than the image needs
    bad["bad-png-short-idat.png"] = sig + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 0, 0, 0, 0)) + idat + iend
    for k, v in bad.items():
        open(os.path.join(OUT, k), "wb").write(v)


if __name__ == "__main__":
    main()
