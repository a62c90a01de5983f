"""bench/harness.py — run "ours" and a "peer" on the same input, alternately.

Use from a bench script (run with Debian's /usr/bin/python3):

    import harness
    res = harness.compare(
        "ols",                                   # -> bench/results/ols.json
        ours=("probkit pk_ols_fit (QR)", lambda: run_ours()),
        peer=("numpy.linalg.lstsq", lambda: run_peer()),
        check=lambda a, b: harness.max_rel_diff(a, b) <= 1e-8,
        runs=5, params={"n": 100000, "p": 50, "threads": 1})

A callable returns either `output` (then the harness times the call with a
monotonic clock) or `harness.Timed(seconds, output)` when it measured the
interesting part itself (e.g. a C program that excludes loading from its
timing).  `harness.command(argv)` wraps a command line as such a callable.

Protocol: one untimed call of each, the outputs are compared with `check`
(a disagreement raises BenchDisagree and nothing is written), then `runs`
rounds in which ours and the peer run back to back, the order swapping every
round so that neither always runs on a warmer cache.  The JSON written holds
every time, the medians, the ratio ours/peer (< 1 means ours is faster),
the agreement detail, the machine, the date and the versions.

A script whose peer is missing calls `harness.skip("reason")`, which exits
with status 77; bench/run_all.sh reports it as skipped.
"""
import datetime
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time

SKIP_EXIT = 77
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")


class BenchDisagree(RuntimeError):
    """Ours and the peer gave different answers: timing them would be meaningless."""


class Timed:
    """A result whose timing the callable measured itself."""

    def __init__(self, seconds, output):
        self.seconds = float(seconds)
        self.output = output


def skip(reason):
    print(f"SKIP: {reason}", file=sys.stderr)
    sys.exit(SKIP_EXIT)


def build_dir():
    """Where the CMake build lives: $PK_BUILD_DIR, else <repo>/build."""
    d = os.environ.get("PK_BUILD_DIR") or os.path.join(ROOT, "build")
    return d if os.path.isabs(d) else os.path.join(ROOT, d)


def find_program(name):
    """Path of a built program (bench_*, probkit) or None."""
    for p in (os.path.join(build_dir(), name), os.path.join(build_dir(), "bench", name)):
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    return None


def set_threads(n):
    """Pin BLAS/OpenMP threads for this process and its children.  Call before
    importing numpy/scipy so that their BLAS sees it."""
    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
        os.environ[v] = str(n)


def command(argv, parse=json.loads, seconds_key=None, env=None):
    """A callable running argv; its stdout is parsed with `parse`.  With
    seconds_key, the parsed output's own timing is used (the median of a list,
    or a number); otherwise the wall time of the whole process."""

    def call():
        t0 = time.perf_counter()
        cp = subprocess.run(argv, capture_output=True, text=True, env=env)
        dt = time.perf_counter() - t0
        if cp.returncode != 0:
            raise RuntimeError(f"{shlex.join(argv)} failed ({cp.returncode}): {cp.stderr.strip()}")
        out = parse(cp.stdout)
        if seconds_key:
            s = out[seconds_key]
            return Timed(statistics.median(s) if isinstance(s, list) else s, out)
        return Timed(dt, out)

    return call


def _call(fn):
    t0 = time.perf_counter()
    r = fn()
    dt = time.perf_counter() - t0
    if isinstance(r, Timed):
        return r.seconds, r.output
    return dt, r


def max_rel_diff(a, b):
    """max |a_i - b_i| / max |b_i| over two equal-length sequences of numbers."""
    a, b = list(map(float, a)), list(map(float, b))
    if len(a) != len(b):
        return float("inf")
    scale = max((abs(x) for x in b), default=0.0) or 1.0
    return max((abs(x - y) for x, y in zip(a, b)), default=0.0) / scale


def machine_info():
    info = {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
    }
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            info["mem_total_kb"] = int(f.readline().split()[1])
        info["loadavg"] = os.getloadavg()
    except OSError:
        pass
    return info


def versions(extra=None):
    v = {}
    try:
        v["probkit_git"] = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                                          text=True).stdout.strip()
    except OSError:
        pass
    for mod in ("numpy", "scipy", "sklearn", "statsmodels", "torch"):
        m = sys.modules.get(mod)
        if m is not None:
            v[mod] = getattr(m, "__version__", "?")
    if extra:
        v.update(extra)
    return v


def compare(name, ours, peer, check, runs=5, warmup=1, params=None, notes="", write=True):
    """Check agreement, then time ours and peer alternately; write and return the result.

    ours / peer: (label, callable).  check(ours_output, peer_output) returns
    True/False or (ok, detail).  runs >= 1 timed rounds; warmup untimed rounds
    after the check (the check itself is the first warm-up)."""
    (olabel, ofn), (plabel, pfn) = ours, peer
    _, oout = _call(ofn)
    _, pout = _call(pfn)
    c = check(oout, pout)
    ok, detail = (c if isinstance(c, tuple) else (bool(c), None))
    if not ok:
        raise BenchDisagree(f"{name}: {olabel} and {plabel} disagree: {detail}")
    for _ in range(max(0, warmup - 1)):
        _call(ofn)
        _call(pfn)
    ot, pt = [], []
    for r in range(runs):
        order = ((ofn, ot), (pfn, pt)) if r % 2 == 0 else ((pfn, pt), (ofn, ot))
        for fn, acc in order:
            acc.append(_call(fn)[0])
    om, pm = statistics.median(ot), statistics.median(pt)
    res = {
        "name": name,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "params": params or {},
        "ours": {"label": olabel, "seconds": ot, "median": om},
        "peer": {"label": plabel, "seconds": pt, "median": pm},
        "ratio_ours_over_peer": om / pm if pm > 0 else None,
        "agreement": detail,
        "runs": runs,
        "protocol": "one untimed call each, outputs checked, then alternating rounds (order swapped each round)",
        "machine": machine_info(),
        "versions": versions(),
        "notes": notes,
    }
    ratio = f"{om / pm:.3g}" if pm > 0 else "n/a"
    print(f"{name}: {olabel} median {om:.4g} s, {plabel} median {pm:.4g} s, ratio ours/peer {ratio}"
          + (f"  (agreement: {detail})" if detail is not None else ""))
    if write:
        write_result(name, res)
    return res


def write_result(name, payload):
    """Write bench/results/<name>.json atomically (a dict, or a list of compare() results)."""
    os.makedirs(RESULTS, exist_ok=True)
    path = os.path.join(RESULTS, f"{name}.json")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(payload, f, indent=1, sort_keys=False)
        f.write("\n")
    os.replace(tmp, path)
    print(f"wrote {os.path.relpath(path, ROOT)}")
    return path
