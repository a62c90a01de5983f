#!/bin/bash
# probkit pfn train / eval / predict on a tiny network; bad input gets a clear message and no output file.
set -u
P="$1"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
fail() { echo "FAIL: $*" >&2; exit 1; }
TINY="--d-model 8 --layers 1 --heads 2 --buckets 10 --steps 30 --batch 4 --points 8"
"$P" pfn --help | grep -q "usage: probkit pfn train" || fail "help"
"$P" pfn train $TINY --out m.safetensors --seed 3 > out 2> err || fail "train: $(cat err)"
grep -q "seed 3" err || fail "seed not printed"
grep -q "final loss" out || fail "no final loss"
"$P" pfn train $TINY --out m2.safetensors --seed 3 > /dev/null 2>&1 || fail "second train"
cmp -s m.safetensors m2.safetensors || fail "same seed gave different models"
"$P" pfn eval m.safetensors --datasets 3 --queries 2 --json > ev.json || fail "eval"
grep -q '"n_train": 20' ev.json || fail "eval rows: $(cat ev.json)"
printf 'x,y\n0.1,0.5\n0.4,-0.2\n0.8,1.0\n' > train.csv
printf 'x\n0.2\n0.9\n' > query.csv
"$P" pfn predict m.safetensors train.csv query.csv --out pred.csv || fail "predict"
head -1 pred.csv | grep -q "^mean,sd,q05,q50,q95$" || fail "header"
[ "$(wc -l < pred.csv)" -eq 3 ] || fail "rows"
awk -F, 'NR > 1 && !($2 > 0 && $3 < $4 && $4 < $5) { bad++ } END { exit bad > 0 }' pred.csv || fail "quantiles: $(cat pred.csv)"
# bad input: clear message, exit code, no output file written
printf 'x,y\n0.1,oops\n' > bad.csv
"$P" pfn predict m.safetensors bad.csv query.csv --out p2.csv 2> err; [ $? -eq 1 ] || fail "bad csv exit"
grep -q "bad.csv: row 2, column 'y'" err || fail "bad csv message: $(cat err)"
[ ! -e p2.csv ] || fail "output written on failure"
printf 'x\n0.1\n' > short.csv
"$P" pfn predict m.safetensors short.csv query.csv 2> err; [ $? -eq 1 ] || fail "column count exit"
grep -q "short.csv: 1 columns, expected 2" err || fail "column count message: $(cat err)"
head -c 100 m.safetensors > cut.safetensors
"$P" pfn eval cut.safetensors 2> err; [ $? -eq 1 ] || fail "truncated model exit"
grep -q "cut.safetensors" err || fail "truncated model message: $(cat err)"
"$P" pfn train $TINY 2> /dev/null; [ $? -eq 2 ] || fail "missing --out"
"$P" pfn train $TINY --out x --lr 7 2> err; [ $? -eq 2 ] || fail "bad lr"
grep -q -- "--lr needs a number" err || fail "bad lr message"
"$P" pfn train --d-model 10 --heads 4 --out x 2> /dev/null; [ $? -eq 2 ] || fail "d-model not multiple of heads"
"$P" pfn frob 2> /dev/null; [ $? -eq 2 ] || fail "unknown subcommand"
echo "pfn CLI: all checks passed"
