#!/bin/bash
# CLI tests of `probkit nn`: usage errors, bad files, a tiny train/eval round
# trip, and the byte-level LM (train, deterministic sampling, scoring).
P="$1"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

"$P" nn --help | grep -q "probkit nn train" || fail "nn --help"
"$P" nn > /dev/null 2>&1; [ $? -eq 2 ] || fail "nn without subcommand should exit 2"
"$P" nn train --data fashion-mnist 2> "$T/e"; [ $? -eq 2 ] || fail "missing --model should exit 2"
grep -q "required" "$T/e" || fail "missing --model message"
"$P" nn train --data nope --model mlp 2> "$T/e"; [ $? -eq 1 ] || fail "unknown data set should exit 1"
grep -q "unknown data set 'nope'" "$T/e" || fail "unknown data set message"
"$P" nn train --data fashion-mnist --model resnet 2> "$T/e"; [ $? -eq 2 ] || fail "unknown model should exit 2"
"$P" nn train --data fashion-mnist --model mlp --epochs 0 2> /dev/null; [ $? -eq 2 ] || fail "--epochs 0 should exit 2"
"$P" nn eval --model-file "$T/none.safetensors" --data fashion-mnist 2> "$T/e"; [ $? -eq 1 ] || fail "missing model exit"
grep -q "none.safetensors" "$T/e" || fail "missing model message names the file"
printf 'not a model at all' > "$T/bad.safetensors"
"$P" nn eval --model-file "$T/bad.safetensors" --data fashion-mnist 2> "$T/e"; [ $? -eq 1 ] || fail "garbage model exit"
"$P" nn lm sample --model "$T/bad.safetensors" 2> "$T/e"; [ $? -eq 1 ] || fail "garbage lm exit"

if [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || [ -n "$PROBKIT_DATA" ]; then
    "$P" nn train --data fashion-mnist --model mlp --hidden 32 --epochs 3 --limit 1024 --val 500 --lr 5e-3 --seed 3 \
        --out "$T/m.safetensors" --json > "$T/o" 2> "$T/e" || { cat "$T/e"; fail "tiny mlp training"; }
    grep -q '"test_accuracy"' "$T/o" || fail "train --json output"
    grep -q "seed 3" "$T/e" || fail "train prints the seed"
    acc=$(sed 's/.*"test_accuracy": \([0-9.]*\).*/\1/' "$T/o")
    awk -v a="$acc" 'BEGIN { exit !(a > 0.5) }' || fail "tiny mlp accuracy $acc <= 0.5"
    "$P" nn eval --model-file "$T/m.safetensors" --data fashion-mnist --json > "$T/o2" || fail "eval"
    grep -q "\"accuracy\": $acc" "$T/o2" || fail "eval accuracy differs from training's test accuracy"
fi

# byte-level LM on a small repetitive text
for i in $(seq 1 60); do echo "In the beginning God created the heaven and the earth."; done > "$T/t.txt"
"$P" nn lm train --text "$T/t.txt" --steps 30 --context 16 --d-model 16 --layers 1 --heads 2 --batch 4 \
    --val-bytes 300 --eval-every 30 --lr 1e-2 --out "$T/lm.safetensors" --json > "$T/o" 2> "$T/e" \
    || { cat "$T/e"; fail "lm train"; }
grep -q '"val_bpb"' "$T/o" || fail "lm train --json"
"$P" nn lm sample --model "$T/lm.safetensors" --prompt "In the" --n 20 --seed 5 > "$T/s1" 2> /dev/null || fail "sample"
"$P" nn lm sample --model "$T/lm.safetensors" --prompt "In the" --n 20 --seed 5 --top-k 5 --top-p 0.9 > /dev/null \
    2> /dev/null || fail "sample top-k/top-p"
"$P" nn lm sample --model "$T/lm.safetensors" --prompt "In the" --n 20 --seed 5 > "$T/s2" 2> /dev/null
cmp -s "$T/s1" "$T/s2" || fail "sampling with one seed is not deterministic"
"$P" nn lm sample --model "$T/lm.safetensors" --temperature 0 2> /dev/null; [ $? -eq 2 ] || fail "temperature 0"
"$P" nn lm score --model "$T/lm.safetensors" --text "$T/t.txt" --json > "$T/o" || fail "score"
grep -q '"bits_per_byte"' "$T/o" || fail "score --json"
"$P" nn lm score --model "$T/lm.safetensors" --text "$T/t.txt" --per-token 2> /dev/null | head -3 > "$T/o"
[ "$(wc -l < "$T/o")" -eq 3 ] || fail "per-token output"
"$P" nn lm score --model "$T/lm.safetensors" --text "$T/t.txt" --stride 999 2> /dev/null; [ $? -eq 2 ] \
    || fail "stride beyond context should exit 2"
echo "nn CLI tests passed"
