#!/usr/bin/python3
"""Reference optima of the Peng-Wei SDP from Debian's CSDP (coinor-csdp) on small problems.
Writes tests/fixtures/cluster/csdp.json: data, K and CSDP's optimal <A, Z> (A = Xc Xc^T).
    max <A, Z>  s.t.  Z 1 = 1, tr Z = K, Z_ij >= 0 (i < j, via LP slacks), Z PSD."""
import json, os, subprocess, tempfile
import numpy as np

def solve(X, K):
    n = X.shape[0]
    Xc = X - X.mean(0)
    A = Xc @ Xc.T
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    m = n + 1 + len(pairs)
    lines = [str(m), "2", f"{n} {-len(pairs)}", " ".join(["1"] * n + [str(K)] + ["0"] * len(pairs))]
    for i in range(n):                      # objective, block 1 upper triangle
        for j in range(i, n):
            if A[i, j] != 0:
                lines.append(f"0 1 {i+1} {j+1} {A[i, j]:.17g}")
    for i in range(n):                      # row sums: sum_j Z_ij = 1
        for j in range(n):
            a, b = min(i, j), max(i, j)
            lines.append(f"{i+1} 1 {a+1} {b+1} {1.0 if a == b else 0.5}")
    for i in range(n):                      # trace
        lines.append(f"{n+1} 1 {i+1} {i+1} 1")
    for c, (i, j) in enumerate(pairs):      # Z_ij - s_c = 0
        lines.append(f"{n+2+c} 1 {i+1} {j+1} 0.5")
        lines.append(f"{n+2+c} 2 {c+1} {c+1} -1")
    # duplicate (row, block, i, j) entries must be merged for SDPA
    body, merged = lines[:4], {}
    for l in lines[4:]:
        k, blk, i, j, v = l.split()
        key = (int(k), int(blk), int(i), int(j))
        merged[key] = merged.get(key, 0.0) + float(v)
    body += [f"{k} {b} {i} {j} {v:.17g}" for (k, b, i, j), v in sorted(merged.items())]
    with tempfile.TemporaryDirectory() as td:
        f = os.path.join(td, "p.dat-s")
        open(f, "w").write("\n".join(body) + "\n")
        out = subprocess.run(["csdp", f, os.path.join(td, "sol")], capture_output=True, text=True).stdout
    for l in out.splitlines():
        if l.startswith("Primal objective value"):
            return float(l.split(":")[1])
    raise RuntimeError(out)

if __name__ == "__main__":
    rng = np.random.RandomState(11)
    cases = []
    for (n, K, sep) in [(30, 3, 1.5), (40, 2, 1.0), (60, 3, 2.5)]:
        y = np.arange(n) % K
        cen = rng.normal(size=(K, 2)) * sep * 2
        X = cen[y] + rng.normal(size=(n, 2))
        cases.append({"n": n, "d": 2, "k": K, "X": X.ravel().tolist(), "optimum": solve(X, K)})
        print(n, K, cases[-1]["optimum"])
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "cluster", "csdp.json")
    json.dump({"solver": "CSDP 6.2.0 (Debian coinor-csdp)", "cases": cases}, open(path, "w"))
