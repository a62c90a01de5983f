#!/usr/bin/python3
"""Build the online-LDA cost grid used by `probkit reproduce spearmint`.

Snoek, Larochelle & Adams (2012) evaluate EI per second on precomputed grids of
real trainings; one is online LDA (Hoffman, Blei & Bach 2010) over the learning
parameters kappa and tau0 and the minibatch size (6 x 6 x 8 = 288 points),
where each point has a held-out perplexity and a duration.  This script builds
the same kind of grid here: scikit-learn's online variational Bayes LDA (the
algorithm of Hoffman et al.) on the King James Bible split into ~3,700
documents of <= 10 verses, one pass over the 80% training documents, held-out
perplexity on the other 20%, and the CPU seconds of the fit (single-threaded
BLAS).  No axis is a pure "more budget" knob: small minibatches cost more
(more M-steps) but are not always better, and kappa / tau0 change both the
quality and the E-step cost.

Usage: OMP_NUM_THREADS=1 /usr/bin/python3 bench/bo_lda_grid.py [out.csv [BATCH,BATCH,...]]
(a batch list computes only those minibatch sizes, so that the grid can be
built in pieces: every fit is deterministic)
       /usr/bin/python3 bench/bo_lda_grid.py --from-logs out.csv LOG...
(writes the grid from the per-fit lines that runs printed on stderr, for
pieces that were stopped before they wrote their CSV)
Data:  <data dir>/kjv/kjv.txt (scripts/fetch_data.sh), data dir = $PROBKIT_DATA or <repo>/data.
"""
import os
import re
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from sklearn.decomposition import LatentDirichletAllocation  # noqa: E402
from sklearn.feature_extraction.text import CountVectorizer  # noqa: E402

KAPPAS = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
TAUS = [1, 4, 16, 64, 256, 1024]
BATCHES = [1, 3, 9, 27, 81, 243, 729, 2187]
TOPICS = 20


def corpus(path):
    docs, cur, chap = [], [], None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            ref, txt = line.split(" ", 1)
            c = ref.split(":")[0]
            if c != chap or len(cur) >= 10:
                if cur:
                    docs.append(" ".join(cur))
                cur, chap = [], c
            cur.append(txt)
    if cur:
        docs.append(" ".join(cur))
    perm = np.random.default_rng(0).permutation(len(docs))
    return [docs[i] for i in perm]


def write_csv(out, rows):
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        f.write("kappa,tau0,batch,perplexity,cpu_seconds\n")
        for r in sorted(rows, key=lambda r: (r[2], r[0], r[1])):
            f.write(f"{r[0]:g},{r[1]:g},{r[2]:g},{r[3]:.4f},{r[4]:.4f}\n")
    os.replace(tmp, out)


def from_logs(out, logs):
    pat = re.compile(r"^S=(\d+) kappa=([0-9.]+) tau0=(\d+): perplexity ([0-9.]+), ([0-9.]+) CPU s$")
    rows = {}
    for path in logs:
        with open(path) as f:
            for line in f:
                m = pat.match(line.strip())
                if m:
                    S, kap, tau = int(m[1]), float(m[2]), int(m[3])
                    rows[(kap, tau, S)] = (kap, tau, S, float(m[4]), float(m[5]))
    write_csv(out, list(rows.values()))
    print(f"{len(rows)} grid points written to {out}", file=sys.stderr)


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--from-logs":
        return from_logs(sys.argv[2], sys.argv[3:])
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    data = os.environ.get("PROBKIT_DATA", os.path.join(repo, "data"))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(repo, "tests/fixtures/bo/lda_grid.csv")
    batches = [int(b) for b in sys.argv[2].split(",")] if len(sys.argv) > 2 else BATCHES
    docs = corpus(os.path.join(data, "kjv", "kjv.txt"))
    X = CountVectorizer(stop_words="english", min_df=5, max_features=2000).fit_transform(docs)
    ntr = int(0.8 * X.shape[0])
    Xtr, Xva = X[:ntr], X[ntr:]
    print(f"{X.shape[0]} documents, {X.shape[1]} words, {ntr} train", file=sys.stderr)
    rows = []
    for S in batches:
        for kap in KAPPAS:
            for tau in TAUS:
                t0 = time.process_time()
                m = LatentDirichletAllocation(n_components=TOPICS, learning_method="online", learning_decay=kap,
                                              learning_offset=tau, batch_size=S, max_iter=1, total_samples=ntr,
                                              evaluate_every=-1, random_state=0)
                m.fit(Xtr)
                sec = time.process_time() - t0
                ppl = m.perplexity(Xva)
                rows.append((kap, tau, S, ppl, sec))
                print(f"S={S} kappa={kap} tau0={tau}: perplexity {ppl:.2f}, {sec:.3f} CPU s", file=sys.stderr,
                      flush=True)
    write_csv(out, rows)


if __name__ == "__main__":
    main()
