#!/bin/bash
# CLI test for `probkit data`: help, info on every format (text and JSON),
# malformed input (exit 1, message naming the file, nothing on stdout),
# usage errors (exit 2), and list/verification against a scratch data dir.
# $1 = probkit binary, $2 = source dir
set -u
P="$1"; SRC="$2"
FX="$SRC/tests/fixtures/core"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
PY=/usr/bin/python3; [ -x $PY ] || PY=python3
fail() { echo "FAIL: $*"; [ -f "$T/out" ] && sed 's/^/  out: /' "$T/out" | head -40; [ -f "$T/err" ] && sed 's/^/  err: /' "$T/err"; exit 1; }
run() { "$P" "$@" >"$T/out" 2>"$T/err"; echo $?; }
json_ok() { $PY -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/out" || fail "invalid JSON: $*"; }
jq_py() { $PY -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$T/out"; }

[ "$(run data --help)" = 0 ] || fail "--help"
grep -q "probkit data info FILE" "$T/out" || fail "--help text"
grep -q -- "--json" "$T/out" || fail "--help lists --json"

# IDX (raw and gz): shape, dtype, stats
[ "$(run data info "$FX/tiny-images-idx3-ubyte")" = 0 ] || fail "idx info"
grep -q "format: idx" "$T/out" || fail "idx format"
grep -q "u8  shape 2x2x3 (12 elements)  min 0  max 220  mean 110  std 72.111" "$T/out" || fail "idx stats"
[ -s "$T/err" ] && fail "unexpected stderr"
[ "$(run data info "$FX/tiny-images-idx3-ubyte.gz" --json)" = 0 ] || fail "idx.gz json"
json_ok idx
[ "$(jq_py 'd["shape"], d["stats"]["max"], d["dtype"]')" = "[2, 2, 3] 220.0 u8" ] || fail "idx json fields"

# NPY (Fortran order) and safetensors (per tensor + metadata)
[ "$(run data info "$FX/npy-f8fortran.npy")" = 0 ] || fail "npy info"
grep -q "f64  shape 3x4 (12 elements)  min -2.75  max 16.5  mean 6.875" "$T/out" || fail "npy stats"
[ "$(run data info "$FX/st-good.safetensors")" = 0 ] || fail "safetensors info"
grep -q "tensors: 13" "$T/out" || fail "tensor count"
grep -q "  weight: f32  shape 3x4" "$T/out" || fail "weight line"
grep -q "metadata note = probkit fixture" "$T/out" || fail "metadata"
[ "$(run data info "$FX/st-good.safetensors" --json)" = 0 ] || fail "safetensors json"
json_ok st
[ "$(jq_py 'len(d["tensors"]), d["metadata"]["format"]')" = "13 pt" ] || fail "safetensors json fields"

# PNG per channel; labels get value counts
[ "$(run data info "$FX/png-rgb.png")" = 0 ] || fail "png info"
grep -q "shape 4x6x3 (72 elements)" "$T/out" || fail "png shape"
grep -q "channel 2 (blue)" "$T/out" || fail "png channels"
printf '\0\0\x08\x01\0\0\0\x06\x01\x02\x02\x09\x09\x09' > "$T/labels.idx"
[ "$(run data info "$T/labels.idx")" = 0 ] || fail "labels info"
grep -q "value counts: 1:1 2:2 9:3" "$T/out" || fail "value counts"

# CSV per column; categorical levels; missing counted
[ "$(run data info "$FX/csv-good.csv")" = 0 ] || fail "csv info"
grep -q "rows 4  columns 5" "$T/out" || fail "csv dims"
grep -Eq "^  age +numeric +min 34  max 41  mean 37.5 .*\(2 missing\)" "$T/out" || fail "csv age"
grep -q 'categorical, 3 levels: Paris, "Ber\\nlin", Rome' "$T/out" || fail "csv levels"
[ "$(run data info "$FX/csv-good.csv" --json)" = 0 ] || fail "csv json"
json_ok csv
[ "$(jq_py 'd["columns"][2]["levels"][1]')" = "Ber
lin" ] || fail "csv json level"
# TSV by option, header skipping
printf 'junk line\nx\ty\n1\t2\n3\t4\n' > "$T/t.txt"
[ "$(run data info "$T/t.txt" --delimiter tab --skip 1)" = 0 ] || fail "tsv"
grep -Eq "^  y +numeric +min 2  max 4  mean 3" "$T/out" || fail "tsv stats"

# malformed input: exit 1, the file and the problem named, nothing on stdout
for f in bad-idx-truncated bad-npy-shape.npy bad-st-overlap.safetensors bad-png-crc.png bad-csv-ragged.csv bad-idx-truncated.gz; do
    [ "$(run data info "$FX/$f")" = 1 ] || fail "$f accepted"
    grep -q "$f" "$T/err" || fail "$f: message does not name the file"
    [ -s "$T/out" ] && fail "$f: output on stdout despite failure"
done
grep -q "gzip" "$T/err" || fail "truncated gz message"
[ "$(run data info "$T/nope.npy")" = 1 ] || fail "missing file"
grep -q "nope.npy: cannot open" "$T/err" || fail "missing file message"

# usage errors
[ "$(run data info)" = 2 ] || fail "info without file"
[ "$(run data info "$FX/csv-good.csv" --format xml)" = 2 ] || fail "bad --format"
[ "$(run data info "$FX/csv-good.csv" --bogus)" = 2 ] || fail "unknown option"
[ "$(run data frobnicate)" = 2 ] || fail "unknown subcommand"
grep -q "try 'probkit data --help'" "$T/err" || fail "usage hint"

# list against a scratch data dir: missing, then a corrupted file caught by SHA-256
mkdir -p "$T/d/mnist"
[ "$(PROBKIT_DATA="$T/d" run data list)" = 0 ] || fail "list (empty dir)"
grep -Eq "^mnist/10k-images +missing +$T/d/mnist/mnist-10k-images-idx3-ubyte" "$T/out" || fail "list missing"
grep -q "probkit data fetch" "$T/out" || fail "fetch hint"
printf 'not mnist' > "$T/d/mnist/mnist-10k-labels-idx1-ubyte"
[ "$(PROBKIT_DATA="$T/d" run data --json)" = 1 ] || fail "corrupt file not flagged"
json_ok list
[ "$(jq_py '[x["status"] for x in d["datasets"] if x["name"]=="mnist/10k-labels"][0]')" = "BAD-SHA256" ] || fail "json status"
grep -q "SHA-256" "$T/err" || fail "checksum message"
echo "data CLI: all checks passed"
