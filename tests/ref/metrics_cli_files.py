#!/usr/bin/python3
"""Small input files for tests/cli/metrics*.sh: a safetensors checkpoint with a
Gaussian, a uniform and a tiny tensor (written by hand: 8-byte header length,
JSON header, raw little-endian data) and a provenance loss table."""
import json, os, struct
import numpy as np

d = os.path.join(os.path.dirname(__file__), "..", "fixtures", "metrics")
rng = np.random.default_rng(5)
tensors = {"ffn.weight": rng.normal(0, 0.02, (64, 128)).astype("<f4"),
           "attn.uniform": rng.uniform(-0.05, 0.05, (64, 96)).astype("<f4"),
           "norm.bias": np.zeros(64, dtype="<f4")}
header, off, blobs = {}, 0, []
for k, v in tensors.items():
    b = v.tobytes()
    header[k] = {"dtype": "F32", "shape": list(v.shape), "data_offsets": [off, off + len(b)]}
    off += len(b)
    blobs.append(b)
h = json.dumps(header).encode()
h += b" " * ((8 - len(h) % 8) % 8)
with open(os.path.join(d, "weights_small.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
n = 300
order = rng.permutation(n)
loss = 2 + rng.normal(size=n) - 0.5 * order / n
with open(os.path.join(d, "provenance_losses.csv"), "w") as f:
    f.write("order,loss,ref_loss\n")
    for o, l in zip(order, loss):
        f.write(f"{o},{l:.6f},{l + 0.5 * o / n + rng.normal(0, 0.3):.6f}\n")
# scipy's answer on the file as written (values rounded to 6 decimals)
from scipy import stats
tab = np.loadtxt(os.path.join(d, "provenance_losses.csv"), delimiter=",", skiprows=1)
r = stats.spearmanr(tab[:, 0], tab[:, 2] - tab[:, 1])
with open(os.path.join(d, "provenance_losses.expected"), "w") as f:
    f.write(f"{r.correlation:.10f} {np.log10(r.pvalue):.6f}\n")
