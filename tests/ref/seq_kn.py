#!/usr/bin/python3
"""Reference interpolated modified Kneser-Ney (Chen & Goodman 1998), written
independently of src/seq/ngram.c, on a tiny integer corpus.  Writes
tests/fixtures/seq/kn_ref.txt: the corpus, then 'ctx... | w p' lines.

Conventions shared with probkit: tokens 0..V-1, EOS = V (predicted), BOS = V+1
(context padding, n-1 copies); lower orders use continuation counts N1+(. g);
unigram interpolates with uniform 1/(V+1); discounts D1..D3 per order from
counts-of-counts (fallback 0.5/1/1.5 if n1 or n2 is 0), clamped to (0, i]."""
import os, random
from collections import defaultdict

V, N = 5, 3
rng = random.Random(1)
corpus = []
for _ in range(60):
    L = rng.randint(0, 8)
    s, prev = [], 0
    for _ in range(L):
        prev = (prev + rng.choice([0, 1, 1, 2, 3])) % V
        s.append(prev)
    corpus.append(s)
EOS, BOS = V, V + 1

counts = [defaultdict(float) for _ in range(N + 1)]  # counts[m][gram tuple]
for s in corpus:
    t = [BOS] * (N - 1) + s + [EOS]
    for i in range(N - 1, len(t)):
        counts[N][tuple(t[i - N + 1:i + 1])] += 1
for m in range(N - 1, 0, -1):
    for g in counts[m + 1]:
        counts[m][g[1:]] += 1  # one per distinct left extension

def disc(cnt):
    nc = defaultdict(int)
    for c in cnt.values():
        if 1 <= c <= 4:
            nc[int(c)] += 1
    if nc[1] > 0 and nc[2] > 0:
        Y = nc[1] / (nc[1] + 2 * nc[2])
        D = [1 - 2 * Y * nc[2] / nc[1], 2 - 3 * Y * nc[3] / nc[2] if nc[2] else 1.5,
             3 - 4 * Y * nc[4] / nc[3] if nc[3] else 2.5]
    else:
        D = [0.5, 1.0, 1.5]
    return [min(d if d > 0 else 0.1 * (i + 1), i + 1) for i, d in enumerate(D)]

D = {m: disc(counts[m]) for m in range(1, N + 1)}
ctxstat = {}
for m in range(1, N + 1):
    st = defaultdict(lambda: [0.0, 0, 0, 0])
    for g, c in counts[m].items():
        v = st[g[:-1]]
        v[0] += c
        v[min(int(c), 3)] += 1
    ctxstat[m] = st

def prob(hist, w):
    p = 1.0 / (V + 1)
    for m in range(1, N + 1):
        h = tuple(hist[len(hist) - (m - 1):]) if m > 1 else ()
        if h not in ctxstat[m]:
            continue
        tot, n1, n2, n3 = ctxstat[m][h]
        c = counts[m].get(h + (w,), 0.0)
        Dm = D[m]
        d = 0 if c <= 0 else Dm[0] if c < 2 else Dm[1] if c < 3 else Dm[2]
        gamma = (Dm[0] * n1 + Dm[1] * n2 + Dm[2] * n3) / tot
        p = max(c - d, 0) / tot + gamma * p
    return p

out = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'seq', 'kn_ref.txt')
with open(out, 'w') as f:
    f.write(f"{V} {N} {len(corpus)}\n")
    for s in corpus:
        f.write(" ".join(map(str, [len(s)] + s)) + "\n")
    ctxs = [[], [0], [1, 2], [4, 4], [3, 3, 3], [0, 1, 2, 3]]
    for ctx in ctxs:
        hist = ([BOS] * (N - 1) + ctx)[-(N - 1):]
        for w in range(V + 1):
            f.write(" ".join(map(str, [len(ctx)] + ctx)) + f" | {w} {prob(hist, w)!r}\n")
print("wrote", out)
