#!/bin/bash
# probkit gp fit / predict: a smooth function is recovered; bad input gets a clear message.
set -u
P="$1"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
fail() { echo "FAIL: $*" >&2; exit 1; }
awk 'BEGIN { srand(3); print "a,b,y"; for (i = 0; i < 40; i++) { a = 4 * rand() - 2; b = 4 * rand() - 2;
  printf "%.6f,%.6f,%.6f\n", a, b, sin(2 * a) + 0.3 * b } }' > train.csv
awk 'BEGIN { srand(4); print "b,a,truth"; for (i = 0; i < 10; i++) { a = 3 * rand() - 1.5; b = 3 * rand() - 1.5;
  printf "%.6f,%.6f,%.6f\n", b, a, sin(2 * a) + 0.3 * b } }' > test.csv
"$P" gp --help | grep -q "usage: probkit gp fit" || fail "help"
"$P" gp fit train.csv --target y --out m.json --seed 1 > out || fail "fit"
grep -q "seed 1" out || fail "seed not printed"
grep -Eq "L-BFGS: 3 starts, [0-9]+ iterations, [0-9]+ evaluations" out || fail "fit work not reported: $(cat out)"
"$P" gp predict m.json test.csv --out pred.csv || fail "predict"
head -1 pred.csv | grep -q "^mean,sd$" || fail "header"
paste -d, <(tail -n +2 test.csv) <(tail -n +2 pred.csv) | awk -F, '{ e = $4 - $3; if (e < 0) e = -e; if (e > 0.1 || $5 <= 0) bad++ }
  END { exit bad > 0 }' || fail "predictions far from the truth: $(paste -d, test.csv pred.csv)"
"$P" gp fit train.csv --target nope --out m2.json 2>err; [ $? -eq 1 ] || fail "unknown target exit"
grep -q "no column 'nope'" err || fail "unknown target message"
"$P" gp fit train.csv --target y 2>/dev/null; [ $? -eq 2 ] || fail "missing --out is a usage error"
"$P" gp fit train.csv --target y --out m3.json --kernel bogus 2>/dev/null; [ $? -eq 2 ] || fail "bad kernel"
echo '{"format": "something"}' > bad.json
"$P" gp predict bad.json test.csv 2>err; [ $? -eq 1 ] || fail "bad model exit"
grep -q "not a probkit-gp version 1 model" err || fail "bad model message"
cut -d, -f1,3 test.csv > missing.csv
"$P" gp predict m.json missing.csv 2>err; [ $? -eq 1 ] || fail "missing column exit"
grep -q "no column 'a'" err || fail "missing column message: $(cat err)"
"$P" gp fit train.csv --target y --kernel relu --iso --json --out m4.json | grep -q '"nngp_relu.log_sw2"' || fail "relu json"
echo "gp CLI: all checks passed"
