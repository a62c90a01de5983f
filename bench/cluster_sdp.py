#!/usr/bin/python3
"""Peng-Wei SDP: probkit's ADMM (bench_cluster sdp) against CSDP (Debian coinor-csdp) on the
same small problems, then ADMM alone at larger n to show how it scales.

    /usr/bin/python3 bench/cluster_sdp.py [--n-csdp 60] [--sizes 100,200,400,1000] [--runs 3]

CSDP solves the SDPA form with an LP block of n(n-1)/2 slacks for Z_ij >= 0 (as
tests/ref/cluster_csdp.py), so its Schur complement is ~n^2/2 square: that is what limits it.
Agreement: optimal values equal to 1e-4 relative (ADMM tol 1e-6).
Writes bench/results/cluster_sdp.json (the comparison) and cluster_sdp_scaling.json."""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "ref"))
import harness  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--n-csdp", type=int, default=60)
ap.add_argument("--k", type=int, default=3)
ap.add_argument("--sizes", default="100,200,400,1000")
ap.add_argument("--runs", type=int, default=3)
ap.add_argument("--threads", type=int, default=2)
args = ap.parse_args()
harness.set_threads(args.threads)
import numpy as np  # noqa: E402

prog = harness.find_program("bench_cluster")
if prog is None:
    harness.skip("bench_cluster not built; set PK_BUILD_DIR")
if shutil.which("csdp") is None:
    harness.skip("csdp not installed (apt-get install coinor-csdp)")
import cluster_csdp  # noqa: E402  (the SDPA writer + solver call of the reference script)

rng = np.random.RandomState(7)


def blobs(n, k):
    y = np.arange(n) % k
    cen = rng.normal(size=(k, 2)) * 3
    return cen[y] + rng.normal(size=(n, 2))


tmp = tempfile.mkdtemp(prefix="probkit-bench-sdp-")
X = blobs(args.n_csdp, args.k)
xp = os.path.join(tmp, "X.npy")
np.save(xp, X)


def csdp_call():
    t0 = time.perf_counter()
    v = cluster_csdp.solve(X, args.k)
    return harness.Timed(time.perf_counter() - t0, {"objective": v})


def agree(o, p):
    rel = abs(o["objective"] - p["objective"]) / abs(p["objective"])
    return rel <= 1e-4, {"rel_diff_objective": rel}


harness.compare("cluster_sdp", (f"pk_sdp_kmeans ADMM tol 1e-6 (n = {args.n_csdp})",
                                harness.command([prog, "sdp", xp, str(args.k), "1e-6"], seconds_key="seconds")),
                ("CSDP 6.2.0 (interior point, SDPA with LP slacks)", csdp_call), agree, runs=args.runs,
                params={"n": args.n_csdp, "k": args.k, "threads": args.threads},
                notes="CSDP time includes writing the SDPA file and parsing its output (small next to the solve)")
rows = []
for n in [int(s) for s in args.sizes.split(",")]:
    Xn = blobs(n, args.k)
    p = os.path.join(tmp, f"X{n}.npy")
    np.save(p, Xn)
    out = json.loads(subprocess.run([prog, "sdp", p, str(args.k), "1e-5"], capture_output=True, text=True,
                                    check=True).stdout)
    rows.append({"n": n, "seconds": out["seconds"], "iterations": out["n_iter"], "converged": out["converged"]})
    print(f"ADMM n = {n}: {out['seconds']:.3g} s, {out['n_iter']} iterations")
harness.write_result("cluster_sdp_scaling", {"name": "cluster_sdp_scaling", "k": args.k, "tol": 1e-5, "rows": rows,
                                             "machine": harness.machine_info(), "versions": harness.versions()})
