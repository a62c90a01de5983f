#!/bin/sh
# CLI test of `probkit pdfa`: random -> sample -> learn (3 methods) -> score,
# and bad input (clear message with a line number, exit 1, no output file).
set -u
P="$1"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$P" pdfa --help | grep -q "usage: probkit pdfa learn" || fail "help"
"$P" pdfa random --states 5 --symbols 4 --out "$T/t.json" --seed 3 2>"$T/err" || fail "random"
grep -q "seed 3" "$T/err" || fail "random does not print its seed"
"$P" pdfa sample --model "$T/t.json" --n 3000 --seed 1 >"$T/train.txt" 2>/dev/null || fail "sample"
head -1 "$T/train.txt" | grep -q "^3000 4$" || fail "sample header"
"$P" pdfa sample --model "$T/t.json" --n 500 --seed 2 >"$T/test.txt" 2>/dev/null || fail "sample test"
for m in alergia stream sketch; do
  "$P" pdfa learn "$T/train.txt" --method $m --out "$T/$m.json" --dot "$T/$m.dot" --json >"$T/out" || fail "learn $m"
  grep -q '"states"' "$T/out" || fail "learn $m json"
  grep -q "digraph" "$T/$m.dot" || fail "dot $m"
  "$P" pdfa score --model "$T/$m.json" "$T/test.txt" --json >"$T/s" || fail "score $m"
  grep -q bits_per_symbol "$T/s" || fail "score json $m"
done
# the learned model is close to the generating one on held-out strings
bt=$("$P" pdfa score --model "$T/t.json" "$T/test.txt" --json | sed 's/.*"bits_per_symbol": \([0-9.e+-]*\).*/\1/')
bl=$("$P" pdfa score --model "$T/alergia.json" "$T/test.txt" --json | sed 's/.*"bits_per_symbol": \([0-9.e+-]*\).*/\1/')
awk -v a="$bl" -v b="$bt" 'BEGIN { exit !(a < b * 1.05) }' || fail "learned $bl bits vs target $bt"

# bad input: symbol outside the alphabet, with its line number; no model written
printf '2 3\n1 0\n2 1 5\n' >"$T/bad.txt"
"$P" pdfa learn "$T/bad.txt" --out "$T/bad.json" 2>"$T/err"; rc=$?
[ $rc -eq 1 ] || fail "bad symbol exit $rc"
grep -q "bad.txt:3: symbol 5 out of the declared alphabet" "$T/err" || fail "bad symbol message: $(cat "$T/err")"
[ ! -e "$T/bad.json" ] || fail "half-written output"
printf '0 3\n' >"$T/empty.txt"
"$P" pdfa learn "$T/empty.txt" 2>"$T/err"; [ $? -eq 1 ] || fail "empty exit"
grep -q "empty stream" "$T/err" || fail "empty message"
"$P" pdfa learn "$T/nope.txt" 2>"$T/err"; [ $? -eq 1 ] || fail "missing file exit"
grep -q "nope.txt" "$T/err" || fail "missing file message"
"$P" pdfa learn "$T/train.txt" --method bogus 2>/dev/null; [ $? -eq 2 ] || fail "bad method exit"
"$P" pdfa learn "$T/train.txt" --alpha 2 2>/dev/null; [ $? -eq 2 ] || fail "bad alpha exit"
"$P" pdfa score "$T/test.txt" 2>/dev/null; [ $? -eq 2 ] || fail "score without model"
echo "seq_pdfa: ok"
