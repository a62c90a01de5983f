#!/usr/bin/python3
"""bench/fewshot_sklearn.py — probkit fewshot beside scikit-learn on the same features and tasks.

1. `probkit fewshot features` trains the CNN backbone on Fashion-MNIST classes 0-4 and writes the
   features of the novel classes 5-9 (as `probkit reproduce fewshot --quick` does).
2. The same 5-way episodes (numpy, fixed seed) are scored by
     ours: `probkit fewshot run` with proto (nearest mean), kmeans and slk-means;
     peer: sklearn LogisticRegression fitted on the support (inductive) and sklearn KMeans
           started at the support means on support + query (transductive, support not clamped).
3. Agreement check first: our K-means with the support free and no shift correction is Lloyd from the
   support means, so it must give sklearn KMeans(init=means, n_init=1, algorithm="lloyd")'s labels.
Writes bench/results/fewshot_sklearn.json.  Usage: bench/fewshot_sklearn.py [path/to/probkit] [episodes]
"""
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import harness  # noqa: E402

try:
    import sklearn
    from sklearn.cluster import KMeans
    from sklearn.linear_model import LogisticRegression
except ImportError:
    harness.skip("scikit-learn is not installed for /usr/bin/python3")

PK = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("PROBKIT", os.path.join(ROOT, "build", "probkit"))
EPISODES = int(sys.argv[2]) if len(sys.argv) > 2 else 150
if not os.access(PK, os.X_OK):
    harness.skip(f"no probkit binary at {PK}")
if not os.path.exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"):
    harness.skip("Fashion-MNIST (Debian dataset-fashion-mnist) is not installed")


def cl2n(F, c):
    F = F - c
    return F / np.maximum(np.linalg.norm(F, axis=1, keepdims=True), 1e-12)


def ours(tmp, method, extra=()):
    out = subprocess.run([PK, "fewshot", "run", "--support", f"{tmp}/S.npy", "--support-labels", f"{tmp}/L.npy",
                          "--query", f"{tmp}/Q.npy", "--method", method, "--json", *extra],
                         check=True, capture_output=True, text=True).stdout
    return np.array(json.loads(out)["labels"])


def main():
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    os.environ.update(env)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.time()
        subprocess.run([PK, "fewshot", "features", "--arch", "cnn", "--epochs", "2", "--max-base", "12000",
                        "--seed", "42", "--out", f"{tmp}/F.npy", "--out-labels", f"{tmp}/Y.npy",
                        "--out-center", f"{tmp}/C.npy"], check=True, capture_output=True)
        feat_secs = time.time() - t0
        F = cl2n(np.load(f"{tmp}/F.npy"), np.load(f"{tmp}/C.npy"))
        Y = np.load(f"{tmp}/Y.npy")
        rng = np.random.default_rng(0)
        res = {}
        agree = {"episodes": 0, "labels_equal": 0}
        for shots in (1, 5):
            acc = {k: [] for k in ("ours_proto", "ours_kmeans", "ours_slk_means", "sklearn_logreg", "sklearn_kmeans")}
            t_ours = t_peer = 0.0
            for e in range(EPISODES):
                S, Q, ys, yq = [], [], [], []
                for c, cls in enumerate(range(5, 10)):
                    idx = rng.choice(np.where(Y == cls)[0], shots + 15, replace=False)
                    S.append(F[idx[:shots]]), Q.append(F[idx[shots:]])
                    ys += [c] * shots
                    yq += [c] * 15
                S, Q, ys, yq = np.concatenate(S), np.concatenate(Q), np.array(ys, np.int32), np.array(yq)
                np.save(f"{tmp}/S.npy", S), np.save(f"{tmp}/Q.npy", Q), np.save(f"{tmp}/L.npy", ys)
                t = time.time()
                for name, m in (("ours_proto", "proto"), ("ours_kmeans", "kmeans"), ("ours_slk_means", "slk-means")):
                    acc[name].append(np.mean(ours(tmp, m) == yq))
                free = ours(tmp, "kmeans", ("--free-support", "--no-shift"))
                t_ours += time.time() - t
                t = time.time()
                means = np.stack([S[ys == c].mean(0) for c in range(5)])
                km = KMeans(5, init=means, n_init=1, algorithm="lloyd", tol=1e-12, max_iter=300)
                km.fit(np.concatenate([S, Q]))
                agree["episodes"] += 1
                agree["labels_equal"] += int(np.array_equal(km.labels_[len(S):], free))
                Qs = Q + S.mean(0) - Q.mean(0)  # the same shift correction as ours
                km2 = KMeans(5, init=means, n_init=1, algorithm="lloyd", max_iter=300).fit(np.concatenate([S, Qs]))
                acc["sklearn_kmeans"].append(np.mean(km2.labels_[len(S):] == yq))
                lr = LogisticRegression(max_iter=1000).fit(S, ys)
                acc["sklearn_logreg"].append(np.mean(lr.predict(Q) == yq))
                t_peer += time.time() - t
            res[f"{shots}-shot"] = {k: {"mean": float(np.mean(v)), "ci95": float(1.96 * np.std(v, ddof=1) /
                                                                                 np.sqrt(len(v)))}
                                    for k, v in acc.items()}
            res[f"{shots}-shot"]["seconds_ours_cli_4_runs"] = t_ours
            res[f"{shots}-shot"]["seconds_sklearn"] = t_peer
        if agree["labels_equal"] < agree["episodes"]:
            print(f"warning: unconstrained K-means labels differ from sklearn on "
                  f"{agree['episodes'] - agree['labels_equal']} of {agree['episodes']} episodes", file=sys.stderr)
        out = {"name": "fewshot_sklearn", "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
               "machine": platform.platform(), "python": platform.python_version(), "sklearn": sklearn.__version__,
               "episodes_per_setting": EPISODES, "features": "probkit fewshot features --arch cnn --epochs 2 "
               "--max-base 12000 --seed 42 (Fashion-MNIST 0-4 base, 5-9 novel), CL2N", "feature_seconds": feat_secs,
               "agreement_unconstrained_kmeans_vs_sklearn": agree, "accuracy": res,
               "note": "timings include one process start per `probkit fewshot run` call and are not a speed "
                       "comparison; the accuracies are on identical episodes"}
        os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
        with open(os.path.join(HERE, "results", "fewshot_sklearn.json"), "w") as f:
            json.dump(out, f, indent=1)
        print(json.dumps(out["accuracy"], indent=1))
        print("agreement:", agree)


if __name__ == "__main__":
    main()
