#!/usr/bin/python3
"""Reference values for tests/theory/test_gendiff.c: the inductive-bias complexity
formula of "Model-agnostic Measure of Generalization Difficulty" evaluated with
scipy (generalised binomials), written to tests/fixtures/theory/gendiff.csv.
Columns: error,n,m,R,classes,delta,bits."""
import os
import numpy as np
from scipy.special import binom, loggamma

def bits(error, n, m, R, C, delta, D, B=1.0):
    logW = 0.5 * np.log(m / 6) + (np.log(2) + (m + 1) / 2 * np.log(np.pi) + np.log(C) - loggamma((m + 1) / 2)) / m \
        + np.log(R) - np.log(n) / m
    M = 2 * np.pi * R / delta
    K = (np.sqrt((m - 1) ** 2 + 4 * M * M) - (m - 1)) / 2
    E = binom(m + K, m) + binom(m + K - 1, m)
    Lf = K * np.sqrt(D) / R
    dimq = 2 * D * C * E - n * D
    ratio = np.log2(B) + 0.5 * np.log2(D) + 0.5 * np.log2(C) - np.log2(error) + np.log2(Lf) + logW / np.log(2)
    return dimq * ratio

rows = [
    (0.1, 1280901, 48, 943.5923, 1000, 65),       # ImageNet, the paper's constants
    (0.001, 60000, 14, 17.179045827183984, 10, 2.3987084824335305),   # MNIST
    (0.01, 50000, 27, 54.9156786783691, 10, 2.7506414616587023),      # CIFAR-10
    (0.05, 1000, 5, 10.0, 2, 1.5),
    (0.01, 300, 8, 12.0, 3, 2.0),
]
out = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'theory', 'gendiff.csv')
with open(out, 'w') as f:
    f.write('error,n,m,R,classes,delta,bits\n')
    for r in rows:
        f.write(','.join(repr(float(x)) for x in r) + ',%r\n' % float(bits(*r, D=r[4] - 1)))
print(open(out).read())
