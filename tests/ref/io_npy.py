#!/usr/bin/python3
"""Write .npy fixtures with numpy for tests/core/test_io_npy.c.

Every array holds v[i] = (7*i - 11) (integers, wrapped for unsigned types),
(7*i - 11) / 4 (floats) or i % 3 == 0 (bool), i being the C-order flat
index, so the C test can check every element without a second copy.
Several byte orders, Fortran order and format versions 1.0/2.0/3.0 are
covered, plus malformed files that must be rejected.

Run: /usr/bin/python3 tests/ref/io_npy.py
     /usr/bin/python3 tests/ref/io_npy.py --check DIR   (used by test_io_npy: numpy must read
     back what probkit wrote in DIR with the same values; exit 1 otherwise)
"""
import os
import sys

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "core")


def values(dtype, shape):
    n = int(np.prod(shape))
    i = np.arange(n, dtype=np.int64)
    dt = np.dtype(dtype)
    if dt.kind == "b":
        v = (i % 3 == 0)
    elif dt.kind == "f":
        v = (7 * i - 11) / 4.0
    else:
        v = (7 * i - 11).astype(np.int64).astype(dt.newbyteorder("="), casting="unsafe")
    return v.astype(dt).reshape(shape)


CASES = [
    # name, dtype, shape, fortran, version
    ("u1", "|u1", (3, 4), False, (1, 0)),
    ("i1", "|i1", (5,), False, (1, 0)),
    ("i2", "<i2", (2, 3), False, (1, 0)),
    ("i2be", ">i2", (2, 3), False, (1, 0)),
    ("i4", "<i4", (2, 2, 2), False, (1, 0)),
    ("i8be", ">i8", (4,), False, (1, 0)),
    ("u2", "<u2", (3, 3), False, (1, 0)),
    ("u4be", ">u4", (2, 5), False, (1, 0)),
    ("f2", "<f2", (2, 4), False, (1, 0)),
    ("f4", "<f4", (3, 5), False, (1, 0)),
    ("f4be", ">f4", (3, 5), False, (1, 0)),
    ("f8", "<f8", (4, 3), False, (2, 0)),
    ("f8v3", "<f8", (2, 3), False, (3, 0)),
    ("b1", "|b1", (7,), False, (1, 0)),
    ("f8fortran", "<f8", (3, 4), True, (1, 0)),
    ("i4fortran3d", ">i4", (2, 3, 4), True, (1, 0)),
    ("u2fortran", "<u2", (4, 2), True, (1, 0)),
    ("scalar", "<f8", (), False, (1, 0)),
    ("empty", "<f4", (0, 3), False, (1, 0)),
]


def main():
    for name, dt, shape, fortran, version in CASES:
        a = values(dt, shape)
        if fortran:
            a = np.asfortranarray(a)
        with open(os.path.join(OUT, f"npy-{name}.npy"), "wb") as f:
            np.lib.format.write_array(f, a, version=version)
    good = open(os.path.join(OUT, "npy-f4.npy"), "rb").read()
    hl = good[8] | good[9] << 8
    hdr = good[10:10 + hl].decode()

    def with_header(h, data=good[10 + hl:]):
        h = h.encode()
        h = h + b" " * ((64 - (10 + len(h) + 1) % 64) % 64) + b"\n"
        return b"\x93NUMPY\x01\x00" + bytes([len(h) & 255, len(h) >> 8]) + h + data

    bad = {
        "bad-npy-magic.npy": b"\x93NUMPZ" + good[6:],
        "bad-npy-truncated.npy": good[:-5],
        "bad-npy-trailing.npy": good + b"\0" * 4,
        "bad-npy-hlen.npy": good[:8] + bytes([0xff, 0x7f]) + good[10:],
        "bad-npy-version.npy": good[:6] + b"\x04\x00" + good[8:],
        "bad-npy-nokey.npy": with_header("{'descr': '<f4', 'shape': (3, 5), }"),
        "bad-npy-extrakey.npy": with_header(hdr.strip().rstrip("}") + "'x': 1, }"),
        "bad-npy-shape.npy": with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (3, -5), }"),
        "bad-npy-notdict.npy": with_header("['descr', '<f4']"),
        "bad-npy-ndim.npy": with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }"),
        "bad-npy-descr.npy": with_header("{'descr': 'f4', 'fortran_order': False, 'shape': (3, 5), }"),
        "bad-npy-fortran.npy": with_header("{'descr': '<f4', 'fortran_order': 0, 'shape': (3, 5), }"),
        "bad-npy-huge.npy": with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }"),
        "bad-npy-unterminated.npy": with_header("{'descr': '<f4, 'fortran_order': False, 'shape': (3, 5)"),
    }
    for k, v in bad.items():
        open(os.path.join(OUT, k), "wb").write(v)
    # a supported-but-unsupported dtype: complex
    np.save(os.path.join(OUT, "unsup-npy-complex.npy"), np.zeros(3, dtype=np.complex128))


def check(d):
    bad = 0
    for name, dt, shape, fortran, version in CASES:
        path = os.path.join(d, f"npy-{name}.npy")
        a = np.load(path)
        want = values(dt, shape)
        if a.shape != want.shape or not np.array_equal(a.astype(np.float64), want.astype(np.float64)):
            print(f"{path}: numpy reads {a.dtype} {a.shape}, values differ from the reference")
            bad += 1
    print(f"numpy read {len(CASES)} files written by probkit, {bad} differ")
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        sys.exit(check(sys.argv[2]))
    main()
