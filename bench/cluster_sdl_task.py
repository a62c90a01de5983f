#!/usr/bin/python3
"""Re-check of the semi-synthetic MNIST task of Lee-Lyu-Yao (supervised dictionary learning):
how the labels are driven, and what plain logistic regression scores on each reading.

    /usr/bin/python3 bench/cluster_sdl_task.py [--reps 20] [--seed 42]

The authors' generator (sim_data_gen_MNIST in their repository, called with r = [10, 10],
n = 500, digits_X = ['2', '5'], digits_Y = ['4', '7'], noise_std = 0.5): 10 images each of
2 and 5 form W_true, H ~ U(0, 1)^{n x 20}, clean X = H W_true; a second draw of 10 images
each of 4 and 7 (W_true_Y) gives Beta = +1 for the first digit's 10 and -1 for the other 10;
labels y ~ Bernoulli(sigmoid(s - mean s)); then X += N(0, 0.5^2) noise; 80/20 split; the
threshold is the training ROC's Youden point.  Two readings of s:

  A  "authors' code": s = (X_clean W_true') Beta  - the code projects on the 2/5 images
     (W_true); the 4/7 draw only fixes the signs of Beta.
  B  "paper text / repro/sdl.c": s = (X_clean W_true_Y') Beta - projections on the 4/7 images.

Baselines on the noisy pixels: scikit-learn's LogisticRegression() as the authors call it
(lbfgs, C = 1, max_iter = 100), the same solved to convergence, and the oracle that thresholds
the true probability at 1/2.  The MNIST images are the 10,000 test digits (data/mnist); the
authors drew from all 70,000.  Writes bench/results/cluster_sdl_task.json.
"""
import argparse
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--reps", type=int, default=20)
ap.add_argument("--seed", type=int, default=42)
args = ap.parse_args()
harness.set_threads(1)

import numpy as np  # noqa: E402
from sklearn import metrics  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

ddir = os.environ.get("PROBKIT_DATA") or os.path.join(harness.ROOT, "data")
ip = os.path.join(ddir, "mnist", "mnist-10k-images-idx3-ubyte")
lp = os.path.join(ddir, "mnist", "mnist-10k-labels-idx1-ubyte")
if not (os.path.isfile(ip) and os.path.isfile(lp)):
    harness.skip("MNIST 10k IDX files missing (run scripts/fetch_data.sh)")
with open(ip, "rb") as f:
    img = np.frombuffer(f.read()[16:], dtype=np.uint8).reshape(-1, 784) / 255.0
with open(lp, "rb") as f:
    lab = np.frombuffer(f.read()[8:], dtype=np.uint8)


def draw(rng, digits, r0=10):
    return np.concatenate([img[rng.choice(np.where(lab == d)[0], r0, replace=False)] for d in digits])


def youden_acc(ytr, ptr, yte, pte):
    fpr, tpr, thr = metrics.roc_curve(ytr, ptr)
    t = thr[np.argmax(tpr - fpr)]
    return float(np.mean((pte >= t) == (yte == 1)))


def one(rng, reading):
    n = 500
    W = draw(rng, (2, 5))
    WY = draw(rng, (4, 7))
    beta = np.r_[np.ones(10), -np.ones(10)]
    H = rng.random((n, 20))
    Xc = H @ W
    s = (Xc @ (W if reading == "A" else WY).T) @ beta
    prob = 1 / (1 + np.exp(-(s - s.mean())))
    y = (rng.random(n) < prob).astype(int)
    X = Xc + 0.5 * rng.normal(size=Xc.shape)
    perm = rng.permutation(n)
    tr, te = perm[:400], perm[400:]
    out = {"sd_logit": float(np.std(s)), "oracle": float(np.mean((prob[te] >= 0.5) == (y[te] == 1)))}
    for name, kw in (("lr_default", {}), ("lr_converged", {"max_iter": 100000})):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf = LogisticRegression(random_state=0, **kw).fit(X[tr], y[tr])
        out[name] = youden_acc(y[tr], clf.predict_proba(X[tr])[:, 1], y[te], clf.predict_proba(X[te])[:, 1])
    return out


rng = np.random.default_rng(args.seed)
res = {"name": "cluster_sdl_task", "reps": args.reps, "seed": args.seed, "readings": {}}
for reading in ("A", "B"):
    runs = [one(rng, reading) for _ in range(args.reps)]
    summ = {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}
    summ["se_lr_default"] = float(np.std([r["lr_default"] for r in runs]) / np.sqrt(args.reps))
    res["readings"][reading] = summ
    print(f"reading {reading}: " + ", ".join(f"{k} {v:.3f}" for k, v in summ.items()))
res["readings"]["A"]["what"] = "authors' code: s = (X_clean W_true') Beta (projections on the 2/5 dictionary images)"
res["readings"]["B"]["what"] = "repro/sdl.c: s = (X_clean W_true_Y') Beta (projections on the 4/7 images)"
res["paper"] = {"lpgd": 0.83, "logistic": 0.72}
res["machine"], res["versions"] = harness.machine_info(), harness.versions()
harness.write_result("cluster_sdl_task", res)
