#!/usr/bin/python3
"""Reference values for tests/gp/test_gp.c from scikit-learn's GaussianProcessRegressor.

Kernel: ConstantKernel * RBF(ARD) + WhiteKernel, which is probkit's
SE(ARD) kernel with noise: hyperparameters [log sf2, log ell_j..., log noise].
Writes tests/fixtures/gp/sklearn_gp.json (small).
"""
import json
import os

import numpy as np
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel, Matern

rng = np.random.RandomState(0)
n, d = 30, 3
X = rng.uniform(-2, 2, size=(n, d))
y = np.sin(X[:, 0]) + 0.5 * X[:, 1] ** 2 - 0.3 * X[:, 2] + 0.1 * rng.randn(n)
Xs = rng.uniform(-2, 2, size=(5, d))
out = {"X": X.tolist(), "y": y.tolist(), "Xs": Xs.tolist(), "cases": []}
for name, base in [("se", RBF(length_scale=[0.7, 1.3, 2.0], length_scale_bounds="fixed")),
                   ("matern52", Matern(length_scale=[0.7, 1.3, 2.0], nu=2.5, length_scale_bounds="fixed")),
                   ("matern32", Matern(length_scale=[0.7, 1.3, 2.0], nu=1.5, length_scale_bounds="fixed"))]:
    k = ConstantKernel(1.7, constant_value_bounds="fixed") * base + WhiteKernel(0.05, noise_level_bounds="fixed")
    gpr = GaussianProcessRegressor(kernel=k, optimizer=None, normalize_y=False).fit(X, y)
    mu, sd = gpr.predict(Xs, return_std=True)
    lml = gpr.log_marginal_likelihood_value_
    # gradient with free hyperparameters (sklearn orders them: constant, ls..., noise)
    kf = ConstantKernel(1.7) * type(base)(**{**base.get_params(), "length_scale_bounds": (1e-5, 1e5)}) + WhiteKernel(0.05)
    lml2, grad = GaussianProcessRegressor(kernel=kf, optimizer=None).fit(X, y).log_marginal_likelihood(
        kf.theta, eval_gradient=True)
    out["cases"].append({"kernel": name, "hyper": [float(np.log(1.7))] + np.log([0.7, 1.3, 2.0]).tolist() +
                         [float(np.log(0.05))], "lml": float(lml), "grad": grad.tolist(),
                         "mean": mu.tolist(), "sd": sd.tolist()})
# one type-II ML fit with restarts for the likelihood comparison
kf = ConstantKernel(1.0) * RBF(length_scale=[1.0] * d) + WhiteKernel(0.1)
gpr = GaussianProcessRegressor(kernel=kf, n_restarts_optimizer=3, random_state=0).fit(X, y)
out["fit_lml"] = float(gpr.log_marginal_likelihood_value_)
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "gp", "sklearn_gp.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
print("wrote", path)
