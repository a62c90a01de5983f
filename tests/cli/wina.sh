#!/bin/bash
# probkit wina eval on a tiny GPT trained on a small text: rows for every rule, dense
# equal under both transforms, JSON shape; bad input gets a clear message and exit code.
set -u
P="$1"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
fail() { echo "FAIL: $*" >&2; exit 1; }
for i in $(seq 1 300); do echo "In the beginning God created the heaven and the earth. Verse $i of a small text."; done > text.txt
"$P" nn lm train --text text.txt --steps 20 --batch 4 --context 16 --d-model 16 --layers 1 --heads 2 \
    --val-bytes 2000 --eval-every 20 --out m.safetensors > /dev/null 2>&1 || fail "nn lm train"
"$P" wina --help | grep -q "usage: probkit wina eval" || fail "help"
"$P" wina eval --model m.safetensors --text text.txt --windows 20 --seed 5 > out 2> err || fail "eval: $(cat err)"
grep -q "seed 5" err || fail "seed not printed"
[ "$(grep -c '^teal \|^cats \|^wina ' out)" -eq 18 ] || fail "rows: $(cat out)"
grep -q "^dense " out || fail "no dense row"
"$P" wina eval --model m.safetensors --text text.txt --windows 20 --method wina --sparsity 0.5 --transform svd \
    --alloc greedy --calib 4 --errors --json > j.json 2> err || fail "greedy json: $(cat err)"
grep -q '"alloc": "greedy"' j.json || fail "json alloc"
grep -q '"method": "wina", "transform": "svd", "sparsity": 0.5' j.json || fail "json row: $(cat j.json)"
grep -q '"rel_error": \[' j.json || fail "json errors"
# the transform leaves the dense model unchanged: same dense NLL with --transform none and svd
a=$("$P" wina eval --model m.safetensors --text text.txt --windows 20 --transform none --method teal --sparsity 0 2> /dev/null | awk '$1 == "dense" { print $5 }')
b=$("$P" wina eval --model m.safetensors --text text.txt --windows 20 --transform svd --method teal --sparsity 0 2> /dev/null | awk '$1 == "dense" { print $5 }')
[ -n "$a" ] && [ "$a" = "$b" ] || fail "dense NLL differs: $a vs $b"
# and at sparsity 0 every rule equals dense
"$P" wina eval --model m.safetensors --text text.txt --windows 20 --sparsity 0 --transform svd 2> /dev/null |
    awk -v d="$b" 'NR > 1 && $5 != d { bad++ } END { exit bad > 0 }' || fail "sparsity 0 differs from dense"
# bad input
"$P" wina eval --text text.txt 2> err; [ $? -eq 2 ] || fail "missing --model exit"
grep -q -- "--model" err || fail "missing --model message"
"$P" wina eval --model m.safetensors --sparsity 0.5,1.2 2> err; [ $? -eq 2 ] || fail "bad sparsity exit"
grep -q "'1.2' is not a number in \[0, 1)" err || fail "bad sparsity message: $(cat err)"
"$P" wina eval --model m.safetensors --method teal,foo 2> err; [ $? -eq 2 ] || fail "bad method exit"
grep -q "'foo' is not one of" err || fail "bad method message"
"$P" wina frob 2> /dev/null; [ $? -eq 2 ] || fail "unknown subcommand"
"$P" wina eval --model nope.safetensors --text text.txt 2> err; [ $? -eq 1 ] || fail "missing model exit"
grep -q "nope.safetensors" err || fail "missing model message: $(cat err)"
"$P" wina eval --model m.safetensors --text nope.txt 2> err; [ $? -eq 1 ] || fail "missing text exit"
grep -q "nope.txt" err || fail "missing text message: $(cat err)"
head -c 100 text.txt > short.txt
"$P" wina eval --model m.safetensors --text short.txt 2> err; [ $? -eq 1 ] || fail "short text exit"
grep -q "too short" err || fail "short text message: $(cat err)"
echo "wina CLI: all checks passed"
