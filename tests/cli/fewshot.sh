#!/bin/bash
# probkit fewshot run / eval / features: a tiny task classified right by every method; JSON and CSV
# outputs; bad input gets a clear message, the right exit code and no output file.
set -u
P="$1"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
fail() { echo "FAIL: $*" >&2; exit 1; }
"$P" fewshot --help | grep -q "usage: probkit fewshot run" || fail "help"
"$P" fewshot run --help | grep -q -- "--support-labels" || fail "run help"
# three well separated classes in 2-D: support 1 row each, 6 queries
printf 'a,b\n0,0\n5,0\n0,5\n' > s.csv
printf 'y\n0\n1\n2\n' > ys.csv
printf 'a,b\n0.2,0.1\n5.1,0.3\n-0.1,4.8\n4.9,-0.2\n0.3,5.2\n0.1,-0.3\n' > q.csv
want="0 1 2 1 2 0"
for m in proto soft-kmeans lapshot kmeans kmodes slk-means slk-ms; do
    "$P" fewshot run --support s.csv --support-labels ys.csv --query q.csv --method $m > out 2> err || fail "run $m: $(cat err)"
    got=$(grep -v '^#' out | tail -n +2 | cut -d, -f2 | tr '\n' ' ' | sed 's/ $//')
    [ "$got" = "$want" ] || fail "$m labels '$got', expected '$want'"
done
grep -q "^index,label,p0,p1,p2$" out || fail "header: $(cat out)"
"$P" fewshot run --support s.csv --support-labels ys.csv --query q.csv --json > j.json || fail "json run"
grep -q '"labels": \[0, 1, 2, 1, 2, 0\]' j.json || fail "json labels: $(cat j.json)"
grep -q '"method": "slk-means"' j.json || fail "json method"
"$P" fewshot run --support s.csv --support-labels ys.csv --query q.csv --l2n --out pred.csv > /dev/null || fail "--out"
[ "$(wc -l < pred.csv)" -eq 7 ] || fail "pred.csv rows"
awk -F, 'NR > 1 { s = $3 + $4 + $5; if (s < 0.999999 || s > 1.000001) bad++ } END { exit bad > 0 }' pred.csv ||
    fail "probabilities do not sum to 1: $(cat pred.csv)"
# bad input
printf 'y\n0\n0\n2\n' > nolab1.csv
"$P" fewshot run --support s.csv --support-labels nolab1.csv --query q.csv --out p2.csv 2> err; [ $? -eq 1 ] ||
    fail "missing class exit"
grep -q "class 1 has no support row" err || fail "missing class message: $(cat err)"
[ ! -e p2.csv ] || fail "output written on failure"
printf 'a\n0\n1\n' > q1.csv
"$P" fewshot run --support s.csv --support-labels ys.csv --query q1.csv 2> err; [ $? -eq 1 ] || fail "columns exit"
grep -q "s.csv has 2 columns but q1.csv has 1" err || fail "columns message: $(cat err)"
printf 'a,b\n0,zz\n' > bad.csv
"$P" fewshot run --support s.csv --support-labels ys.csv --query bad.csv 2> err; [ $? -eq 1 ] || fail "bad csv exit"
grep -q "bad.csv: line 2, column 'b'" err || fail "bad csv message: $(cat err)"
printf 'y\n0\n1.5\n2\n' > frac.csv
"$P" fewshot run --support s.csv --support-labels frac.csv --query q.csv 2> err; [ $? -eq 1 ] || fail "fractional label"
grep -q "frac.csv: label 1 is 1.5" err || fail "fractional label message: $(cat err)"
printf 'y\n0\n1\n' > short.csv
"$P" fewshot run --support s.csv --support-labels short.csv --query q.csv 2> err; [ $? -eq 1 ] || fail "label count"
grep -q "short.csv has 2 labels but s.csv has 3 rows" err || fail "label count message: $(cat err)"
"$P" fewshot run --support nowhere.csv --support-labels ys.csv --query q.csv 2> err; [ $? -eq 1 ] || fail "missing file"
grep -q "nowhere.csv" err || fail "missing file message: $(cat err)"
"$P" fewshot run --support s.csv --support-labels ys.csv --query q.csv --method nope 2> err; [ $? -eq 2 ] ||
    fail "unknown method exit"
grep -q "unknown --method 'nope'" err || fail "unknown method message"
"$P" fewshot run --support s.csv --query q.csv 2> /dev/null; [ $? -eq 2 ] || fail "missing labels"
"$P" fewshot run --support s.csv --support-labels ys.csv --query q.csv --lambda -1 2> /dev/null; [ $? -eq 2 ] ||
    fail "negative lambda"
"$P" fewshot frob 2> /dev/null; [ $? -eq 2 ] || fail "unknown subcommand"
# eval: a pool of 4 classes x 12 rows, separated blobs; every method near 100%
awk 'BEGIN { srand(7); print "a,b,c,d" > "pool.csv"; print "y" > "poolY.csv";
     for (c = 0; c < 4; c++) for (i = 0; i < 12; i++) {
         r = ""; for (j = 0; j < 4; j++) r = r (j ? "," : "") ((j == c) * 3 + 0.3 * (rand() - 0.5));
         print r > "pool.csv"; print c > "poolY.csv" } }'
"$P" fewshot eval --features pool.csv --labels poolY.csv --ways 3 --shots 2 --queries 5 --episodes 20 --seed 5 --json \
    > ev.json 2> err || fail "eval: $(cat err)"
grep -q "seed 5" err || fail "seed not printed"
grep -q '"proto": {"mean": 1,' ev.json || fail "eval proto: $(cat ev.json)"
grep -q '"slk-ms": {"mean": 1,' ev.json || fail "eval slk-ms: $(cat ev.json)"
"$P" fewshot eval --features pool.csv --labels poolY.csv --ways 3 --shots 2 --queries 5 --episodes 20 --seed 5 --json \
    > ev2.json 2> /dev/null || fail "eval again"
cmp -s ev.json ev2.json || fail "same seed, different eval"
"$P" fewshot eval --features pool.csv --labels poolY.csv --ways 3 --queries 20 --episodes 5 2> err; [ $? -eq 1 ] ||
    fail "too few rows exit"
grep -q "needs" err || fail "too few rows message: $(cat err)"
# features: a tiny backbone when Fashion-MNIST is installed
if [ -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
    "$P" fewshot features --max-base 300 --epochs 1 --out F.npy --out-labels Y.npy --out-center C.npy --save-model m.st \
        --json > fj.json 2> err || fail "features: $(cat err)"
    grep -q '"n": 5000, "d": 64' fj.json || fail "features json: $(cat fj.json)"
    [ -s m.st ] || fail "model not saved"
    "$P" fewshot eval --features F.npy --labels Y.npy --center C.npy --episodes 5 --methods proto,slk-means > /dev/null ||
        fail "eval on extracted features"
fi
echo "fewshot CLI: all checks passed"
