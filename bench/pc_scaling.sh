#!/bin/bash
# bench/pc_scaling.sh — Fashion-MNIST test bpd of an HCLT against its number of
# latent states k, at one cheap setting (first 20,000 training images, 3 + 1 EM
# epochs, theta_sigma 1, seed 1, first 2,000 test images, float32 models): the
# capacity curve behind docs/pc.md's "What it would take".  k = 64 takes ~10
# minutes of one core.  Writes bench/results/pc_scaling.json.
# usage: PK_BUILD_DIR=build bench/pc_scaling.sh [K...]   (default: 16 32 64)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
P="${PK_BUILD_DIR:-$ROOT/build}/probkit"
[ -x "$P" ] || P="$ROOT/$P"
[ -x "$P" ] || { echo "SKIP: no probkit binary (set PK_BUILD_DIR)" >&2; exit 77; }
TR=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
TE=/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
[ -r "$TR" ] && [ -r "$TE" ] || { echo "SKIP: Fashion-MNIST (dataset-fashion-mnist) not installed" >&2; exit 77; }
KS=${*:-16 32 64}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
rows=""
for k in $KS; do
  OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} "$P" pc learn -i "$TR" -o "$T/k$k.pkpc" --k "$k" --mini-epochs 3 \
    --full-epochs 1 --limit 20000 --theta-sigma 1 --quant-step 0 --seed 1 --json > "$T/learn$k.json" 2> "$T/learn$k.err"
  "$P" pc eval -m "$T/k$k.pkpc" -i "$TE" --limit 2000 --naive 0 --json > "$T/eval$k.json"
  bpd=$(grep -o '"theoretical_bpd": [0-9.]*' "$T/eval$k.json" | awk '{print $2}')
  echo "k = $k: test bpd $bpd" >&2
  rows="$rows${rows:+, }{\"k\": $k, \"test_bpd\": $bpd, \"learn\": $(cat "$T/learn$k.json")}"
done
out="$ROOT/bench/results/pc_scaling.json"
printf '{"what": "FMNIST HCLT test bpd vs k: first 20,000 training images, 3+1 EM epochs, theta_sigma 1, seed 1, first 2,000 test images", "rows": [%s]}\n' "$rows" > "$out.tmp"
mv "$out.tmp" "$out"
echo "wrote bench/results/pc_scaling.json" >&2
