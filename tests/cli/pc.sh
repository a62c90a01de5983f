#!/bin/bash
# CLI tests for `probkit pc`: $1 = probkit binary, $2 = source dir.
set -u
P="$1"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# IDX u8 images N x H x W: smooth blobs plus a little deterministic noise.
mkidx() { # file n h w seed
  LC_ALL=C awk -v n="$2" -v h="$3" -v w="$4" -v s="$5" 'BEGIN {
    printf "%c%c%c%c", 0, 0, 8, 3
    printf "%c%c%c%c", int(n / 16777216) % 256, int(n / 65536) % 256, int(n / 256) % 256, n % 256
    printf "%c%c%c%c%c%c%c%c", 0, 0, 0, h, 0, 0, 0, w
    srand(s)
    for (i = 0; i < n; i++) { cx = rand() * w; cy = rand() * h; b = 100 + int(rand() * 150)
      for (r = 0; r < h; r++) for (c = 0; c < w; c++) {
        d = (r - cy) ^ 2 + (c - cx) ^ 2; v = int(b * exp(-d / 6) + rand() * 6)
        if (v > 255) v = 255; printf "%c", v } } }' > "$1"
}
mkidx "$T/train.idx" 400 8 8 1
mkidx "$T/test.idx" 40 8 8 2
mkidx "$T/wrong.idx" 5 10 10 3

out=$("$P" pc learn -i "$T/train.idx" -o "$T/m.pkpc" --k 4 --mini-epochs 2 --full-epochs 1 --json 2> "$T/err") ||
  fail "learn exit $?: $(cat "$T/err")"
echo "$out" | grep -q '"seed": 42' || fail "learn: seed not printed: $out"
echo "$out" | /usr/bin/python3 -c 'import json, sys; d = json.load(sys.stdin); assert d["valid_bpd"] is None' ||
  fail "learn --json without --valid is not valid JSON with a null valid_bpd: $out"
grep -q 'full-batch epoch 1/1  train bpd' "$T/err" || fail "learn: no per-epoch bpd on stderr"
[ -s "$T/m.pkpc" ] || fail "no model written"
echo "$out" | grep -q '"quant_step": 0.3' || fail "learn: model not quantised by default: $out"
[ "$(head -c 5 "$T/m.pkpc" | tail -c 1 | od -An -tu1 | tr -d ' ')" = 2 ] || fail "learn: not a compact (version 2) file"
# Float32 model, then quantised by `pc quantize`: smaller, measured before/after.
"$P" pc learn -i "$T/train.idx" -o "$T/mf.pkpc" --k 4 --mini-epochs 2 --full-epochs 1 --quant-step 0 \
  > /dev/null 2>&1 || fail "learn --quant-step 0"
[ "$(head -c 5 "$T/mf.pkpc" | tail -c 1 | od -An -tu1 | tr -d ' ')" = 1 ] || fail "--quant-step 0: not a float32 file"
q=$("$P" pc quantize -m "$T/mf.pkpc" -o "$T/mq.pkpc" -i "$T/test.idx" --json) || fail "quantize exit $?"
echo "$q" | grep -q '"bpd_after"' || fail "quantize json: $q"
[ "$(stat -c %s "$T/mq.pkpc")" -lt "$(( $(stat -c %s "$T/mf.pkpc") / 3 ))" ] || fail "quantized model not smaller"
# Mixture of two models on the same tree (same data, other seed): codes exactly.
"$P" pc learn -i "$T/train.idx" -o "$T/mb.pkpc" --k 3 --mini-epochs 1 --full-epochs 0 --seed 5 > /dev/null 2>&1 ||
  fail "second component"
"$P" pc mix -o "$T/mix.pkpc" "$T/m.pkpc" "$T/mb.pkpc" --weights 1,2 | grep -q 'k = 7' || fail "mix"
"$P" pc compress -m "$T/mix.pkpc" -i "$T/test.idx" -o "$T/mix.pkpz" > /dev/null || fail "compress with a mixture"
"$P" pc decompress -m "$T/mix.pkpc" -i "$T/mix.pkpz" -o "$T/mix.idx" > /dev/null || fail "decompress with a mixture"
cmp -s "$T/mix.idx" "$T/test.idx" || fail "mixture round trip differs"

for mode in "" --stream; do
  "$P" pc compress -m "$T/m.pkpc" -i "$T/test.idx" -o "$T/c.pkpz" $mode > "$T/o" || fail "compress $mode"
  grep -q 'bits per pixel' "$T/o" || fail "compress output: $(cat "$T/o")"
  "$P" pc decompress -m "$T/m.pkpc" -i "$T/c.pkpz" -o "$T/d.idx" > /dev/null || fail "decompress $mode"
  cmp -s "$T/test.idx" "$T/d.idx" || fail "round trip differs ($mode)"
done
# random access to one image, and PNG folders in and out
"$P" pc compress -m "$T/m.pkpc" -i "$T/test.idx" -o "$T/c.pkpz" > /dev/null || fail "compress"
"$P" pc decompress -m "$T/m.pkpc" -i "$T/c.pkpz" -o "$T/one.idx" --index 7 > /dev/null || fail "--index"
[ "$(tail -c 64 "$T/one.idx" | od -An -v -tu1)" = "$(head -c $((16 + 8 * 64)) "$T/test.idx" | tail -c 64 | od -An -v -tu1)" ] ||
  fail "--index 7 decoded the wrong image"
"$P" pc decompress -m "$T/m.pkpc" -i "$T/c.pkpz" -o "$T/png/" > /dev/null || fail "decompress to PNGs"
[ "$(ls "$T/png" | wc -l)" = 40 ] || fail "expected 40 PNGs"
"$P" pc compress -m "$T/m.pkpc" -i "$T/png" -o "$T/c2.pkpz" > /dev/null || fail "compress a PNG folder"
cmp -s "$T/c.pkpz" "$T/c2.pkpz" || fail "PNG folder and IDX inputs compress differently"

ev=$("$P" pc eval -m "$T/m.pkpc" -i "$T/test.idx" --json --naive 2) || fail "eval exit $?"
echo "$ev" | grep -q '"bit_exact": true' || fail "eval: $ev"
"$P" pc eval -m "$T/m.pkpc" -i "$T/test.idx" | grep -q '^theoretical bpd' || fail "eval text"

"$P" pc sample -m "$T/m.pkpc" -o "$T/s.png" -n 8 > "$T/o" || fail "sample"
grep -q 'seed 42' "$T/o" || fail "sample: seed not printed"
[ "$(head -c 4 "$T/s.png" | tail -c 3)" = PNG ] || fail "sample: not a PNG"
"$P" pc inpaint -m "$T/m.pkpc" -i "$T/test.idx" -o "$T/i.png" -n 4 --mpe > /dev/null || fail "inpaint --mpe"
"$P" pc inpaint -m "$T/m.pkpc" -i "$T/test.idx" -o "$T/i2.png" -n 4 --mask centre > /dev/null || fail "inpaint"
[ -s "$T/i.png" ] && [ -s "$T/i2.png" ] || fail "inpaint wrote nothing"

# ---- bad input: clear message, exit 1/2, nothing written ----------------------------------
expect() { # code pattern command...
  local code=$1 pat=$2; shift 2
  "$@" > /dev/null 2> "$T/err"; local rc=$?
  [ $rc = "$code" ] || fail "expected exit $code, got $rc: $* ($(cat "$T/err"))"
  grep -q -e "$pat" "$T/err" || fail "expected '$pat' in: $(cat "$T/err")"
}
head -c 300 "$T/c.pkpz" > "$T/trunc.pkpz"
expect 1 "truncated or corrupted" "$P" pc decompress -m "$T/m.pkpc" -i "$T/trunc.pkpz" -o "$T/never.idx"
cp "$T/c.pkpz" "$T/flip.pkpz"
printf '\x55' | dd of="$T/flip.pkpz" bs=1 seek=100 conv=notrunc 2> /dev/null
expect 1 "truncated or corrupted" "$P" pc decompress -m "$T/m.pkpc" -i "$T/flip.pkpz" -o "$T/never.idx"
"$P" pc learn -i "$T/train.idx" -o "$T/m2.pkpc" --k 4 --mini-epochs 1 --full-epochs 0 --seed 9 --theta-sigma 1 \
  2> /dev/null > /dev/null || fail "second model (with --theta-sigma)"
expect 1 "different model" "$P" pc decompress -m "$T/m2.pkpc" -i "$T/c.pkpz" -o "$T/never.idx"
expect 1 "images are 10x10 but the model is for 8x8" "$P" pc compress -m "$T/m.pkpc" -i "$T/wrong.idx" -o "$T/never.pkpz"
expect 1 "not a probkit compressed-image file" "$P" pc decompress -m "$T/m.pkpc" -i "$T/test.idx" -o "$T/never.idx"
head -c 1000 "$T/m.pkpc" > "$T/badmodel.pkpc"
expect 1 "checksum mismatch" "$P" pc eval -m "$T/badmodel.pkpc" -i "$T/test.idx"
expect 2 "-m MODEL is required" "$P" pc compress -i "$T/test.idx" -o "$T/never.pkpz"
expect 2 "unknown command" "$P" pc frobnicate
expect 2 "--k must be" "$P" pc learn -i "$T/train.idx" -o "$T/never.pkpc" --k 0
expect 2 "--theta-sigma must be" "$P" pc learn -i "$T/train.idx" -o "$T/never.pkpc" --theta-sigma -1
expect 2 "--theta-shrink" "$P" pc learn -i "$T/train.idx" -o "$T/never.pkpc" --theta-shrink -1
expect 2 "--weight-shrink" "$P" pc learn -i "$T/train.idx" -o "$T/never.pkpc" --weight-shrink x
expect 2 "--augment" "$P" pc learn -i "$T/train.idx" -o "$T/never.pkpc" --augment rotate
# --augment shift1 trains on 5x the images (the count is printed)
n0=$(head -c 8 "$T/train.idx" | tail -c 4 | od -An -tu1 | awk '{print $1*16777216 + $2*65536 + $3*256 + $4}')
"$P" pc learn -i "$T/train.idx" -o "$T/ma.pkpc" --k 2 --mini-epochs 1 --full-epochs 0 --augment shift1 \
  > /dev/null 2> "$T/aug.err" || fail "learn --augment shift1: $(cat "$T/aug.err")"
grep -q "$((5 * n0)) images 8x8 (with one-pixel translations)" "$T/aug.err" || fail "augment count: $(head -2 "$T/aug.err")"
# Shrinkage options: a heavy prior pulls the model toward per-pixel marginals,
# so its training bpd must be worse than without (the options reach EM).
b0=$("$P" pc learn -i "$T/train.idx" -o "$T/s0.pkpc" --k 4 --mini-epochs 1 --full-epochs 1 --json 2> /dev/null |
  sed 's/.*"train_bpd": \([0-9.]*\).*/\1/') || fail "learn without shrinkage"
b1=$("$P" pc learn -i "$T/train.idx" -o "$T/s1.pkpc" --k 4 --mini-epochs 1 --full-epochs 1 --json --theta-shrink 1e6 \
  --weight-shrink 1e6 --shrink-interior 2> /dev/null | sed 's/.*"train_bpd": \([0-9.]*\).*/\1/') ||
  fail "learn with shrinkage"
awk -v a="$b0" -v b="$b1" 'BEGIN { exit !(b > a + 0.02) }' || fail "shrinkage had no effect: $b0 vs $b1"
expect 1 "" "$P" pc learn -i "$T/missing.idx" -o "$T/never.pkpc"
expect 2 "--weights has 1 values for 2 models" "$P" pc mix -o "$T/never.pkpc" "$T/m.pkpc" "$T/mb.pkpc" --weights 1
expect 2 "--quant-step" "$P" pc quantize -m "$T/m.pkpc" -o "$T/never.pkpc" --quant-step 9
"$P" pc learn -i "$T/test.idx" -o "$T/m3.pkpc" --k 2 --mini-epochs 1 --full-epochs 0 > /dev/null 2>&1 ||
  fail "model on other data"
expect 1 "another tree" "$P" pc mix -o "$T/never.pkpc" "$T/m.pkpc" "$T/m3.pkpc"
[ ! -e "$T/never.idx" ] && [ ! -e "$T/never.pkpz" ] && [ ! -e "$T/never.pkpc" ] || fail "output written despite an error"
"$P" pc --help | grep -q 'usage: probkit pc' || fail "--help"
echo "pc CLI tests passed"
