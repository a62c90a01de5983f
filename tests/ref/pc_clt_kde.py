"""Reference for pk_pc_clt_bpd (kernel-smoothed Chow-Liu tree tables).

Writes tests/fixtures/pc/clt_kde.txt: one line per parameter setting,
"sigma_parent sigma_child floor keep_ends bpd", for a deterministic chain
data set that tests/pc/test_pc_em.c regenerates with the same generator.
Run with Debian's /usr/bin/python3 (numpy, scipy)."""
import os
import numpy as np
from scipy.ndimage import gaussian_filter

NC, D, N = 16, 5, 300
M64 = (1 << 64) - 1


def data():
    s = 12345
    x = np.zeros((N, D), np.int64)
    def nxt():
        nonlocal s
        s = (s * 6364136223846793005 + 1442695040888963407) & M64
        return s >> 33
    for r in range(N):
        for v in range(D):
            u = nxt()
            if v == 0:
                x[r, v] = u % NC
            elif u % 10 == 0:
                x[r, v] = 0 if (u // 10) % 2 == 0 else NC - 1
            else:
                x[r, v] = min(max(x[r, v - 1] + int((u // 10) % 5) - 2, 0), NC - 1)
    return x


def table(cnt, sa, sb, keep, root):
    t = cnt.astype(float).copy()
    if root:
        lo, hi = (1, NC - 1) if keep else (0, NC)
        if sb > 0:
            t[0, lo:hi] = gaussian_filter(t[0, lo:hi], sb, mode='nearest', truncate=4.0)
        return t[:1]
    lo, hi = (1, NC - 1) if keep else (0, NC)
    blk = t[lo:hi, lo:hi]
    # axis 1 (child) first, then axis 0 (parent), as the C code does
    if sb > 0:
        blk = gaussian_filter(blk, (0, sb), mode='nearest', truncate=4.0)
    if sa > 0:
        blk = gaussian_filter(blk, (sa, 0), mode='nearest', truncate=4.0)
    t[lo:hi, lo:hi] = blk
    return t


def bpd(x, sa, sb, fl, keep):
    tot = 0.0
    for v in range(D):
        p = v - 1
        cnt = np.zeros((NC, NC))
        for r in range(N):
            cnt[x[r, p] if p >= 0 else 0, x[r, v]] += 1
        t = table(cnt, sa, sb, keep, p < 0) + fl
        L = np.log(t / t.sum(1, keepdims=True))
        tot += sum(L[x[r, p] if p >= 0 else 0, x[r, v]] for r in range(N))
    return -tot / (N * D * np.log(2))


if __name__ == '__main__':
    x = data()
    out = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'pc', 'clt_kde.txt')
    with open(out, 'w') as f:
        for sa, sb, fl, keep in [(0, 0, 0.5, 0), (2, 1, 0.05, 1), (1.5, 0.7, 0.1, 0), (3, 2, 0.02, 1)]:
            f.write('%.17g %.17g %.17g %d %.17g\n' % (sa, sb, fl, keep, bpd(x, sa, sb, fl, keep)))
