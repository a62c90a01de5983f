#!/usr/bin/python3
"""PDFA learning time and peak memory against stream length: the streaming
learners (sketch and streaming Alergia) against batch Alergia (all probkit; no
external PDFA learner is packaged in Debian), on strings sampled from one
random PDFA.

    /usr/bin/python3 bench/seq_pdfa.py [--lengths 10000,100000,1000000] [--runs 3] [--seed 42]

For each length N: `probkit pdfa sample` writes N strings from a random
12-state, 6-symbol PDFA; `probkit pdfa learn --method sketch`, `--method
stream` and `--method alergia` run in rotating order `runs` times; we record
the median wall time, the peak RSS of the learner process (GNU time), the
learner's own bytes and the held-out bits/symbol of each model against the
generating machine's; per length the ratios of each streaming learner to
batch Alergia, and over all lengths the log-log growth exponent of time and
memory in N.  Batch Alergia is skipped above --batch-max strings (its prefix
tree grows linearly).  Writes bench/results/seq_pdfa.json.
"""
import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--lengths", default="10000,100000,1000000")
ap.add_argument("--batch-max", type=int, default=300000)
ap.add_argument("--runs", type=int, default=3)
ap.add_argument("--seed", type=int, default=42)
args = ap.parse_args()

prog = harness.find_program("probkit")
if prog is None:
    harness.skip(f"probkit not built (looked in {harness.build_dir()})")
tmp = tempfile.mkdtemp(prefix="pk_seq_pdfa_")
target = os.path.join(tmp, "t.json")
subprocess.run([prog, "pdfa", "random", "--states", "12", "--symbols", "6", "--out", target, "--seed",
                str(args.seed)], check=True, capture_output=True)
test = os.path.join(tmp, "test.txt")
with open(test, "w") as f:
    subprocess.run([prog, "pdfa", "sample", "--model", target, "--n", "2000", "--seed", str(args.seed + 1)],
                   check=True, stdout=f, stderr=subprocess.DEVNULL)


def bits(model):
    out = subprocess.run([prog, "pdfa", "score", "--model", model, test, "--json"], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)["bits_per_symbol"]


TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def learn(train, method, out):
    argv = [prog, "pdfa", "learn", train, "--method", method, "--out", out, "--json"]
    if TIME:  # GNU time reports the process's own peak RSS (KiB) on stderr
        argv = [TIME, "-f", "PKRSS %M"] + argv
    t0 = time.perf_counter()
    cp = subprocess.run(argv, check=True, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    rss = None
    for line in cp.stderr.splitlines():
        if line.startswith("PKRSS "):
            rss = int(line.split()[1])
    return dt, json.loads(cp.stdout), rss


target_bits = bits(target)
rows = []
for n in [int(x) for x in args.lengths.split(",")]:
    train = os.path.join(tmp, f"train_{n}.txt")
    with open(train, "w") as f:
        subprocess.run([prog, "pdfa", "sample", "--model", target, "--n", str(n), "--seed", str(args.seed + 2)],
                       check=True, stdout=f, stderr=subprocess.DEVNULL)
    methods = ["sketch", "stream"] + (["alergia"] if n <= args.batch_max else [])
    res = {m: {"seconds": [], "rss_kib": None} for m in methods}
    for r in range(args.runs):
        for m in methods[r % len(methods):] + methods[:r % len(methods)]:
            dt, st, rss = learn(train, m, os.path.join(tmp, f"{m}.json"))
            res[m]["seconds"].append(dt)
            res[m]["learner_peak_bytes"] = st["peak_bytes"]
            res[m]["states"] = st["states"]
            if rss is not None:
                res[m]["rss_kib"] = max(res[m]["rss_kib"] or 0, rss)
    for m in methods:
        res[m]["median"] = statistics.median(res[m]["seconds"])
        res[m]["heldout_excess_bits_per_symbol"] = bits(os.path.join(tmp, f"{m}.json")) - target_bits
    row = {"strings": n, "methods": res}
    if "alergia" in res:
        for m in ("sketch", "stream"):
            row[f"time_ratio_{m}_over_batch"] = res[m]["median"] / res["alergia"]["median"]
            row[f"learner_bytes_ratio_{m}_over_batch"] = (res[m]["learner_peak_bytes"] /
                                                         res["alergia"]["learner_peak_bytes"])
            if res[m]["rss_kib"] and res["alergia"]["rss_kib"]:
                row[f"rss_ratio_{m}_over_batch"] = res[m]["rss_kib"] / res["alergia"]["rss_kib"]
    rows.append(row)
    print(f"{n} strings: " + ", ".join(f"{m} {res[m]['median']:.3f} s, {res[m]['learner_peak_bytes'] / 1024:.0f} KiB"
                                       f" learner, {res[m]['states']} states" for m in methods))


def slope(key, method):
    """log-log growth exponent of a per-method figure in N (first to last length that has it)."""
    pts = [(r["strings"], key(r["methods"][method])) for r in rows if method in r["methods"]]
    pts = [(x, y) for x, y in pts if y]
    if len(pts) < 2:
        return None
    (x0, y0), (x1, y1) = pts[0], pts[-1]
    return math.log(y1 / y0) / math.log(x1 / x0)


growth = {m: {"time": slope(lambda r: r["median"], m),
              "learner_bytes": slope(lambda r: r["learner_peak_bytes"], m),
              "rss": slope(lambda r: r["rss_kib"], m)} for m in ("sketch", "stream", "alergia")}
for m, g in growth.items():
    print(f"{m}: growth exponents " + ", ".join(f"{k} {v:.2f}" for k, v in g.items() if v is not None))
harness.write_result("seq_pdfa", {
    "name": "seq_pdfa",
    "params": {"target_states": 12, "symbols": 6, "runs": args.runs, "seed": args.seed},
    "rows": rows,
    "growth_exponents": growth,
    "protocol": "rotating order of methods per run and length; medians; learner bytes = the learner's own "
                "structures; growth exponents = log-log slope from the first to the last length; "
                "rss_kib = peak RSS of the learning process (GNU time %M), max over runs",
    "machine": harness.machine_info(),
    "notes": "peer: probkit's own batch Alergia (no packaged external PDFA learner); times include parsing the "
             "PAutomaC text file",
})
shutil.rmtree(tmp, ignore_errors=True)
