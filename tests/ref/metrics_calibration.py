#!/usr/bin/python3
"""Reference values for tests/metrics/test_calibration.c (scikit-learn / scipy).

Writes tests/fixtures/metrics/calibration.txt: a data block (p y p_true) and
`name value...` lines.  Run with Debian's /usr/bin/python3."""
import os
import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.calibration import calibration_curve, _sigmoid_calibration
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

rng = np.random.default_rng(8)
n = 400
ptrue = rng.beta(2, 3, n)
y = (rng.random(n) < ptrue).astype(float)
# an over-confident model: logit scaled by 1.8 plus noise, some values rounded to create ties
z = np.log(ptrue / (1 - ptrue)) * 1.8 + rng.normal(0, 0.3, n)
p = 1 / (1 + np.exp(-z))
p[:40] = np.round(p[:40], 2)

out = [f"n {n}"]
for i in range(n):
    out.append(f"row {p[i]:.17g} {y[i]:.0f} {ptrue[i]:.17g}")
out.append(f"brier {brier_score_loss(y, p):.17g}")
out.append(f"logloss {log_loss(y, p):.17g}")
out.append(f"auc {roc_auc_score(y, p):.17g}")
for strat, nb in (("uniform", 10), ("quantile", 5)):
    pt, pp = calibration_curve(y, p, n_bins=nb, strategy=strat)
    out.append(f"curve_{strat}_{nb} {len(pt)} " + " ".join(f"{v:.17g}" for v in pt) + " "
               + " ".join(f"{v:.17g}" for v in pp))
# isotonic fit evaluated at probe points (clip outside, as CalibratedClassifierCV)
iso = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(p, y)
probe = np.linspace(0, 1, 41)
out.append("iso_probe " + " ".join(f"{v:.17g}" for v in iso.predict(probe)))
# Platt scaling on the logit of p
zl = np.log(np.clip(p, 1e-12, 1 - 1e-12)) - np.log1p(-np.clip(p, 1e-12, 1 - 1e-12))
A, B = _sigmoid_calibration(zl, y)
out.append(f"platt {A:.17g} {B:.17g}")
# temperature scaling: minimise the NLL of sigmoid(z / T)
def nll(logb):
    s = np.exp(logb) * zl
    return np.sum(np.logaddexp(0, s) - y * s)
r = minimize_scalar(nll, bracket=(-2, 0), tol=1e-12)
out.append(f"temperature {1 / np.exp(r.x):.17g}")
path = os.path.join(os.path.dirname(__file__), "..", "fixtures", "metrics", "calibration.txt")
with open(path, "w") as f:
    f.write("\n".join(out) + "\n")
