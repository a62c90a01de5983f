#!/bin/bash
# CLI test for `probkit ols`: table, JSON, missing values, aliasing, errors.
# $1 = probkit binary, $2 = source dir
set -u
P="$1"; SRC="$2"
FIX="$SRC/tests/fixtures/ols/fixture.csv"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; [ -f "$T/out" ] && sed 's/^/  out: /' "$T/out"; [ -f "$T/err" ] && sed 's/^/  err: /' "$T/err"; exit 1; }
run() { "$P" "$@" >"$T/out" 2>"$T/err"; echo $?; }

[ "$(run ols --help)" = 0 ] || fail "--help"
grep -q -- "--target COL" "$T/out" || fail "--help text"

# the regression table matches the numpy/scipy reference (tests/fixtures/ols/ref.json)
[ "$(run ols "$FIX" --target y)" = 0 ] || fail "fixture fit"
grep -Eq '^x1 +2\.15423 +0\.2365 +9\.110' "$T/out" || fail "x1 row"
grep -Eq '^const +1\.47794' "$T/out" || fail "const row"
grep -q 'R^2 0.9039   adj. R^2 0.8969' "$T/out" || fail "R^2 line"
grep -q 'rank 5 of 5' "$T/out" || fail "rank"
[ -s "$T/err" ] && fail "unexpected stderr"

# JSON, SVD, a column subset, no intercept
[ "$(run ols "$FIX" --target y --columns x1,x2 --no-intercept --method svd --json)" = 0 ] || fail "json"
grep -q '"method": "svd"' "$T/out" || fail "json method"
grep -q '"rank": 2' "$T/out" || fail "json rank"
grep -q '"columns": \[' "$T/out" || fail "json columns"
grep -q '"const"' "$T/out" && fail "--no-intercept still has const"

# missing values: dropped (and counted) by default, an error naming the row on request
{ echo "y,a,b"; echo "1,1,2"; echo "2,2,1"; echo "3,3,5"; echo "NA,4,4"; echo "5,5,1"; echo "6,6,7"; echo "4,3,2"; } >"$T/m.csv"
[ "$(run ols "$T/m.csv" --target y)" = 0 ] || fail "missing drop"
grep -q '6 rows used (1 dropped for missing values)' "$T/out" || fail "drop count"
[ "$(run ols "$T/m.csv" --target y --missing error)" = 1 ] || fail "missing error exit"
grep -q "data row 4: column 'y' is missing" "$T/err" || fail "missing error message"
[ -s "$T/out" ] && fail "stdout on error"

# an aliased column is reported, not fatal
{ echo "y,a,b,c"; for i in 1 2 3 4 5 6 7 8; do echo "$((i*i%7)),$i,$((i%3)),$((i+i%3))"; done; } >"$T/al.csv"
[ "$(run ols "$T/al.csv" --target y)" = 0 ] || fail "aliased fit"
grep -q 'warning: .*rank 3 < 4 columns; aliased: ' "$T/err" || fail "aliased warning"
grep -q '(aliased: a linear combination' "$T/out" || fail "aliased row"

# identities of the adjunction, with the seed printed
[ "$(run ols "$FIX" --target y --identities --seed 7)" = 0 ] || fail "identities"
grep -q 'exact value 0; seed 7' "$T/out" || fail "identities seed"
grep -Eq '^  X\^T r = 0 +([0-9.]+e-1[0-9]|0)$' "$T/out" || fail "X^T r row"
grep -Eq '^  Pythagoras +([0-9.]+e-1[0-9]|0)$' "$T/out" || fail "Pythagoras row"
[ "$(run ols "$FIX" --target y --identities --json)" = 0 ] || fail "identities json"
grep -q '"identities": {' "$T/out" || fail "identities json object"
[ "$(run ols "$FIX" --target y --seed -1)" = 2 ] || fail "bad seed"

# plot
[ "$(run ols "$FIX" --target y --plot "$T/r.svg")" = 0 ] || fail "plot"
grep -q '<svg' "$T/r.svg" || fail "plot file"

# usage errors (exit 2) and data errors (exit 1)
[ "$(run ols "$FIX")" = 2 ] || fail "no --target"
grep -q -- "--target COL is required" "$T/err" || fail "no --target message"
[ "$(run ols "$FIX" --target y --method lu)" = 2 ] || fail "bad method"
[ "$(run ols "$FIX" --target y --bogus)" = 2 ] || fail "unknown option"
[ "$(run ols "$FIX" --target nope)" = 1 ] || fail "bad target"
grep -q "no column 'nope'" "$T/err" || fail "bad target message"
[ "$(run ols "$FIX" --target y --columns x1,zz)" = 1 ] || fail "bad column"
grep -q "no column 'zz'" "$T/err" || fail "bad column message"
[ "$(run ols "$T/does-not-exist.csv" --target y)" = 1 ] || fail "missing file"
grep -q "does-not-exist.csv" "$T/err" || fail "missing file message"
[ -s "$T/out" ] && fail "stdout on error"
# scikit-learn's Boston CSV (when installed): a count line before the header
B=/usr/lib/python3/dist-packages/sklearn/datasets/data/boston_house_prices.csv
if [ -f "$B" ]; then
  [ "$(run ols "$B" --skip-lines 1 --target MEDV --json)" = 0 ] || fail "boston"
  grep -q '"n": 506' "$T/out" || fail "boston rows"
  grep -q '"rank": 14' "$T/out" || fail "boston rank"
fi
[ "$(run ols "$FIX" --target y --skip-lines x)" = 2 ] || fail "bad --skip-lines"
echo "ols CLI: all checks passed"
