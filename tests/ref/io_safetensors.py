#!/usr/bin/python3
"""Write safetensors fixtures for tests/core/test_io_safetensors.c.

The safetensors Python package is not packaged for Debian 12, so this
script follows the published format directly (u64 LE header length, JSON
header, byte buffer; data_offsets relative to the buffer) using json and
numpy: an implementation independent of ours.  Values follow the same rule
as io_npy.py: (7*i - 11) for integers (wrapped), (7*i - 11)/4 for floats,
i % 3 == 0 for bool, i being the C-order flat index.

Run: /usr/bin/python3 tests/ref/io_safetensors.py
"""
import json
import os
import struct

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "core")

DT = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2",
      "I8": "|i1", "U8": "|u1", "BOOL": "|b1", "U16": "<u2", "U32": "<u4"}


def values(st, shape):
    n = int(np.prod(shape))
    i = np.arange(n, dtype=np.int64)
    dt = np.dtype(DT[st])
    if dt.kind == "b":
        v = i % 3 == 0
    elif dt.kind == "f":
        v = (7 * i - 11) / 4.0
    else:
        v = (7 * i - 11).astype(dt.newbyteorder("="), casting="unsafe")
    return np.asarray(v).astype(dt).reshape(shape)


def pack(tensors, meta=None, pad=True, header_override=None):
    hdr, blobs, pos = {}, [], 0
    if meta is not None:
        hdr["__metadata__"] = meta
    for name, st, shape in tensors:
        b = values(st, shape).tobytes()
        hdr[name] = {"dtype": st, "shape": list(shape), "data_offsets": [pos, pos + len(b)]}
        blobs.append(b)
        pos += len(b)
    h = (header_override or json.dumps(hdr, separators=(",", ":"))).encode()
    if pad:
        h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def raw(header, data):
    h = header.encode()
    return struct.pack("<Q", len(h)) + h + data


def main():
    good = [("weight", "F32", (3, 4)), ("bias", "F64", (4,)), ("counts", "I64", (2, 2)),
            ("half", "F16", (5,)), ("small", "I8", (6,)), ("pix", "U8", (2, 3)),
            ("mask", "BOOL", (7,)), ("i16", "I16", (3,)), ("i32", "I32", (2, 2, 2)),
            ("u16", "U16", (4,)), ("u32", "U32", (3,)), ("scalar", "F64", ()), ("empty", "F32", (0, 2))]
    open(os.path.join(OUT, "st-good.safetensors"), "wb").write(
        pack(good, meta={"format": "pt", "note": "probkit fixture"}))
    open(os.path.join(OUT, "st-nometa.safetensors"), "wb").write(pack([("x", "F32", (2,))], pad=False))

    t = [("a", "F32", (2, 2))]
    d16 = values("F32", (2, 2)).tobytes()
    bad = {
        "bad-st-short.safetensors": b"\x10\x00\x00",
        "bad-st-hlen.safetensors": struct.pack("<Q", 1 << 40) + b"{}",
        "bad-st-hlen-past-end.safetensors": struct.pack("<Q", 500) + b'{"a":1}',
        "bad-st-json.safetensors": raw('{"a": {"dtype": "F32", "shape": [2,2], "data_offsets": [0,16]', d16),
        "bad-st-notobj.safetensors": raw('[1, 2, 3]                                    ', d16),
        "bad-st-dtype-missing.safetensors": raw('{"a":{"shape":[2,2],"data_offsets":[0,16]}}', d16),
        "bad-st-size.safetensors": raw('{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,16]}}', d16),
        "bad-st-overlap.safetensors": raw(
            '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
            '"b":{"dtype":"F32","shape":[3],"data_offsets":[4,16]}}', d16),
        "bad-st-gap.safetensors": raw(
            '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
            '"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}', d16),
        "bad-st-past-end.safetensors": raw('{"a":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}}', d16),
        "bad-st-trailing.safetensors": raw('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', d16),
        "bad-st-reversed.safetensors": raw('{"a":{"dtype":"F32","shape":[0],"data_offsets":[16,0]}}', d16),
        "bad-st-negative.safetensors": raw('{"a":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}}', d16),
        "bad-st-float-shape.safetensors": raw('{"a":{"dtype":"F32","shape":[4.0],"data_offsets":[0,16]}}', d16),
        "bad-st-dup.safetensors": raw(
            '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
            '"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}', d16),
        "bad-st-emptyname.safetensors": raw('{"":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', d16),
        "bad-st-meta.safetensors": raw(
            '{"__metadata__":{"k":3},"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', d16),
        "bad-st-extra-key.safetensors": raw(
            '{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16],"x":1}}', d16),
        "bad-st-huge-shape.safetensors": raw(
            '{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,16]}}', d16),
        "bad-st-nul.safetensors": raw('{"a\\u0000b":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', d16),
    }
    for k, v in bad.items():
        open(os.path.join(OUT, k), "wb").write(v)
    open(os.path.join(OUT, "unsup-st-f8.safetensors"), "wb").write(
        raw('{"a":{"dtype":"F8_E4M3","shape":[16],"data_offsets":[0,16]}}', d16))


if __name__ == "__main__":
    main()
