#!/bin/bash
# CLI tests for `probkit cluster`: $1 = probkit binary, $2 = source dir.
set -u
P="$1"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# three separated blobs, 20 points each, deterministic (awk's sin as a cheap noise source)
awk 'BEGIN { print "a,b,cls"; for (i = 0; i < 60; i++) { c = i % 3;
      printf "%.6f,%.6f,%d\n", 6*c + sin(i*1.7), (c == 2 ? 6 : 0) + cos(i*2.3), c } }' > "$T/blobs.csv"

for m in kmeans gmm sdp ila-sdp; do
  out=$("$P" cluster --k 3 --method $m --label cls --json "$T/blobs.csv") || fail "$m exit $?"
  echo "$out" | grep -q '"ari": 1[,}]' || fail "$m: expected ARI 1 on separated blobs: $out"
  echo "$out" | grep -q '"seed": 42' || fail "$m: seed not printed"
  n=$(echo "$out" | sed 's/.*"labels": \[//; s/\].*//' | tr ',' '\n' | wc -l)
  [ "$n" = 60 ] || fail "$m: expected 60 labels, got $n"
done

# text summary, labels file and plot
"$P" cluster --k 3 --columns a,b --out "$T/lab.csv" --plot "$T/p.svg" --labels "$T/blobs.csv" > "$T/o.txt" || fail "text run"
grep -q '^inertia: ' "$T/o.txt" || fail "no inertia line"
grep -q '^seed: 42$' "$T/o.txt" || fail "no seed line"
[ "$(head -1 "$T/lab.csv")" = label ] || fail "labels file header"
[ "$(wc -l < "$T/lab.csv")" = 61 ] || fail "labels file rows"
grep -q '<svg' "$T/p.svg" || fail "plot is not SVG"
# same seed, same answer; other algorithms agree on inertia for this easy case
a=$("$P" cluster --k 3 --seed 7 --json "$T/blobs.csv"); b=$("$P" cluster --k 3 --seed 7 --json "$T/blobs.csv")
[ "$a" = "$b" ] || fail "not deterministic for a fixed seed"
"$P" cluster --k 3 --algo lloyd "$T/blobs.csv" | grep -q '^converged: yes' || fail "lloyd"
"$P" cluster --k 3 --method gmm --cov diag "$T/blobs.csv" | grep -q '^bic: ' || fail "gmm diag bic"

# bad input: NaN cell names row and column, exit 1, no output file left behind
sed '5s/^[^,]*/nan/' "$T/blobs.csv" > "$T/nan.csv"
"$P" cluster --k 3 --out "$T/never.csv" "$T/nan.csv" > /dev/null 2> "$T/err"; rc=$?
[ $rc = 1 ] || fail "NaN: exit $rc"
grep -q "row 4, column 'a'" "$T/err" || fail "NaN message: $(cat "$T/err")"
[ ! -e "$T/never.csv" ] || fail "output written despite the error"
"$P" cluster --k 100 "$T/blobs.csv" > /dev/null 2> "$T/err"; rc=$?
[ $rc = 1 ] && grep -q "need at least k rows" "$T/err" || fail "k > n: exit $rc $(cat "$T/err")"
"$P" cluster "$T/blobs.csv" > /dev/null 2> "$T/err"; [ $? = 2 ] || fail "missing --k should be a usage error"
"$P" cluster --k 3 --method spectral "$T/blobs.csv" > /dev/null 2>&1; [ $? = 2 ] || fail "unknown method"
"$P" cluster --k 3 "$T/missing.csv" > /dev/null 2> "$T/err"; [ $? = 1 ] || fail "missing file"
grep -q "missing.csv" "$T/err" || fail "missing file not named"
"$P" cluster --k 3 --label nope "$T/blobs.csv" > /dev/null 2> "$T/err"; [ $? = 1 ] || fail "bad label column"
# constant column + gmm with reg 0: reported regularisation, no crash
awk 'BEGIN { print "x,c"; for (i = 0; i < 30; i++) printf "%d,1\n", i % 5 }' > "$T/const.csv"
"$P" cluster --k 2 --method gmm --reg 0 "$T/const.csv" > "$T/o.txt" 2>&1; rc=$?
[ $rc = 0 ] && grep -q '^reg_covar_used: ' "$T/o.txt" || [ $rc = 1 ] || fail "constant column: exit $rc"
"$P" cluster --help | grep -q -- '--method' || fail "help"
echo "cluster CLI: all checks passed"
