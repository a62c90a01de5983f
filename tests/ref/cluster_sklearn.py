#!/usr/bin/python3
"""Reference values for tests/cluster: scikit-learn KMeans, GaussianMixture and
clustering metrics on small synthetic data.  Writes tests/fixtures/cluster/sklearn.json.
Run with Debian's /usr/bin/python3 (scikit-learn 1.2)."""
import json, os, sys
import numpy as np
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

rng = np.random.RandomState(7)
n, d, k = 240, 3, 3
centres = np.array([[0, 0, 0], [4, 1, 0], [1, 5, 2]], float)
scales = [0.7, 1.3, 1.0]
y = rng.randint(0, k, size=n)
A = rng.normal(size=(k, d, d)) * 0.4
X = np.stack([centres[y[i]] + scales[y[i]] * (np.eye(d) + A[y[i]]) @ rng.normal(size=d) for i in range(n)])
init = X[[3, 50, 100]].copy()

out = {"n": n, "d": d, "k": k, "X": X.ravel().tolist(), "y": y.tolist(), "init_centers": init.ravel().tolist()}
km = KMeans(n_clusters=k, init=init, n_init=1, max_iter=300, tol=0.0, algorithm="lloyd").fit(X)
out["kmeans"] = {"centers": km.cluster_centers_.ravel().tolist(), "labels": km.labels_.tolist(),
                 "inertia": float(km.inertia_)}

# GMM: start every covariance type from the same hard responsibilities (labels of a poor start)
lab0 = np.argmin(((X[:, None, :] - init[None]) ** 2).sum(-1), axis=1)
resp = np.eye(k)[lab0]
nk = resp.sum(0)
w0 = nk / n
mu0 = resp.T @ X / nk[:, None]
gm_out = {}
for ct in ["full", "diag", "spherical", "tied"]:
    if ct == "full":
        cov0 = np.stack([((X - mu0[j]).T * resp[:, j]) @ (X - mu0[j]) / nk[j] + 1e-6 * np.eye(d) for j in range(k)])
        prec = np.linalg.inv(cov0)
    elif ct == "tied":
        cov0 = sum(((X - mu0[j]).T * resp[:, j]) @ (X - mu0[j]) for j in range(k)) / n + 1e-6 * np.eye(d)
        prec = np.linalg.inv(cov0)
    elif ct == "diag":
        cov0 = np.stack([(resp[:, j:j + 1] * (X - mu0[j]) ** 2).sum(0) / nk[j] + 1e-6 for j in range(k)])
        prec = 1 / cov0
    else:
        cov0 = np.array([((resp[:, j:j + 1] * (X - mu0[j]) ** 2).sum(0) / nk[j] + 1e-6).mean() for j in range(k)])
        prec = 1 / cov0
    gm = GaussianMixture(n_components=k, covariance_type=ct, tol=0.0, max_iter=25, reg_covar=1e-6,
                         weights_init=w0, means_init=mu0, precisions_init=prec, n_init=1)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gm.fit(X)
    gm_out[ct] = {"init_covs": np.asarray(cov0).ravel().tolist(), "weights": gm.weights_.tolist(),
                  "means": gm.means_.ravel().tolist(), "covs": np.asarray(gm.covariances_).ravel().tolist(),
                  "lower_bound": float(gm.lower_bound_), "score": float(gm.score(X)),
                  "bic": float(gm.bic(X)), "aic": float(gm.aic(X)),
                  "proba_row0": gm.predict_proba(X[:1]).ravel().tolist()}
out["gmm"] = gm_out
out["gmm_init"] = {"weights": w0.tolist(), "means": mu0.ravel().tolist(), "max_iter": 25}

# metrics on assorted labelings
mets = []
r2 = np.random.RandomState(3)
for trial in range(6):
    m = 50 + 10 * trial
    a = r2.randint(0, 2 + trial % 4, size=m)
    b = a.copy()
    flip = r2.rand(m) < 0.3
    b[flip] = r2.randint(0, 3 + trial % 3, size=flip.sum())
    perm = r2.permutation(b.max() + 1)
    b = perm[b]
    # mis-clustering error by brute force over permutations (small k)
    import itertools
    kk = max(a.max(), b.max()) + 1
    best = 0
    for p in itertools.permutations(range(kk)):
        best = max(best, sum(1 for i in range(m) if p[b[i]] == a[i]))
    mets.append({"a": a.tolist(), "b": b.tolist(), "ari": adjusted_rand_score(a, b),
                 "nmi": normalized_mutual_info_score(a, b), "err": 1 - best / m})
out["metrics"] = mets

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "cluster", "sklearn.json")
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path, "w") as f:
    json.dump(out, f)
print("wrote", path, os.path.getsize(path), "bytes")
