#!/usr/bin/python3
"""Training targets of the nn engine, end to end through the CLI.

    /usr/bin/python3 bench/nn_train.py [--only cnn,mlp,lm] [--threads 1]

Runs (each deterministic for its seed and thread count):
  cnn  probkit nn train --data fashion-mnist --model cnn --epochs 5          target: test accuracy >= 0.90
  mlp  probkit nn train --data mnist --model mlp --hidden 512,512 --dropout 0.2 --epochs 20 --augment
                                                                            target: >= 0.96 on the held-out 2,000
  lm   probkit nn lm train --d-model 96 --layers 3 --heads 3 --context 64 --batch 32 --steps 3500 --lr 3e-3
                                                                            target: val bits/byte < 5-gram's
and records each run's JSON with its wall and CPU seconds (user + system of
the child) in bench/results/nn_train.json.  The targets ask for under 10
minutes on 2 cores: compare the CPU seconds (work on one core) with 1200.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

RUNS = {
    "cnn": (["nn", "train", "--data", "fashion-mnist", "--model", "cnn", "--epochs", "5", "--json"],
            "test_accuracy", ">=", 0.90),
    "mlp": (["nn", "train", "--data", "mnist", "--model", "mlp", "--hidden", "512,512", "--dropout", "0.2",
             "--epochs", "20", "--augment", "--json"], "test_accuracy", ">=", 0.96),
    "lm": (["nn", "lm", "train", "--d-model", "96", "--layers", "3", "--heads", "3", "--context", "64", "--batch",
            "32", "--steps", "3500", "--lr", "3e-3", "--val-bytes", "50000", "--eval-every", "500", "--json"],
           "val_bpb", "<", "ngram5_bpb"),
}

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--only", default="cnn,mlp,lm")
ap.add_argument("--threads", type=int, default=1)
args = ap.parse_args()
harness.set_threads(args.threads)
prog = harness.find_program("probkit")
if prog is None:
    harness.skip(f"probkit not built (looked in {harness.build_dir()})")
out = {"threads": args.threads, "machine": harness.machine_info(), "versions": harness.versions(), "runs": {}}
tmp = os.path.join(harness.ROOT, "build-nn-runs")
os.makedirs(tmp, exist_ok=True)
for name in args.only.split(","):
    argv, key, op, target = RUNS[name]
    argv = [prog] + argv + ["--out", os.path.join(tmp, f"{name}.safetensors")]
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    cp = subprocess.run(argv, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if cp.returncode != 0:
        sys.exit(f"{name}: {' '.join(argv)} failed: {cp.stderr}")
    res = json.loads(cp.stdout)
    value = res[key]
    tv = res[target] if isinstance(target, str) else target
    ok = value >= tv if op == ">=" else value < tv
    out["runs"][name] = {"command": " ".join(["probkit"] + argv[1:]), "result": res, "wall_seconds": wall,
                         "cpu_seconds": (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime),
                         "target": f"{key} {op} {target}", "met": ok}
    print(f"{name}: {key} {value:.4f} (target {op} {tv}), wall {wall:.0f} s, "
          f"cpu {out['runs'][name]['cpu_seconds']:.0f} s: {'MET' if ok else 'NOT MET'}")
harness.write_result("nn_train", out)
