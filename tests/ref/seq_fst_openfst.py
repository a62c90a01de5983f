#!/usr/bin/python3
"""Random WFST pairs in AT&T text and OpenFst's verdict on them (log semiring).

Writes tests/fixtures/seq/fst_<i>_a.att, fst_<i>_b.att and fst_openfst_ref.txt
with one line per pair: i, OpenFst's total weight of A o B (fstcompose +
fstshortestdistance --reverse, start state's distance) and of rmepsilon(A).
Needs Debian's libfst-tools (fstcompile, fstarcsort, fstcompose, fstrmepsilon,
fstshortestdistance)."""
import os, random, subprocess, tempfile

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, '..', 'fixtures', 'seq')
rng = random.Random(5)

def rand_fst(n, labels, cyclic):
    lines = []
    for s in range(n - 1):
        for _ in range(rng.randint(1, 3)):
            d = rng.randint(s + 1, n - 1)
            lines.append(f"{s}\t{d}\t{rng.randint(0, labels)}\t{rng.randint(0, labels)}\t{0.2 + rng.random():.6f}")
    if cyclic:  # a light loop back (mass < 1 keeps distances finite)
        lines.append(f"{n - 1}\t1\t{rng.randint(1, labels)}\t{rng.randint(1, labels)}\t{2.5 + rng.random():.6f}")
    finals = [f"{n - 1}\t{rng.random():.6f}"] + [f"{s}\t{1 + rng.random():.6f}" for s in range(1, n - 1) if rng.random() < 0.3]
    return "\n".join(lines + finals) + "\n"

def run(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout

def total(fst, tmp):
    d = run('fstshortestdistance', '--reverse', fst).split('\n')
    for line in d:
        f = line.split()
        if len(f) == 2 and f[0] == '0':
            return float(f[1]) if f[1] != 'Infinity' else float('inf')
    return float('inf')

with tempfile.TemporaryDirectory() as tmp, open(os.path.join(out, 'fst_openfst_ref.txt'), 'w') as ref:
    for i in range(6):
        a = rand_fst(6, 3, cyclic=(i >= 4))
        b = rand_fst(5, 3, cyclic=False)
        pa, pb = os.path.join(out, f'fst_{i}_a.att'), os.path.join(out, f'fst_{i}_b.att')
        open(pa, 'w').write(a)
        open(pb, 'w').write(b)
        fa, fb, fc, fe = (os.path.join(tmp, x) for x in ('a.fst', 'b.fst', 'c.fst', 'e.fst'))
        run('fstcompile', '--arc_type=log', pa, fa)
        run('fstcompile', '--arc_type=log', pb, fb)
        sa = os.path.join(tmp, 'as.fst')
        run('fstarcsort', '--sort_type=olabel', fa, sa)
        run('fstcompose', sa, fb, fc)
        run('fstrmepsilon', fa, fe)
        ref.write(f"{i} {total(fc, tmp)!r} {total(fe, tmp)!r} {total(fa, tmp)!r}\n")
print("wrote fixtures to", out)
