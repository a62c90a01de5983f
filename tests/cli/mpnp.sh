#!/bin/bash
# CLI tests for `probkit mpnp`: $1 = probkit binary, $2 = source dir.
set -u
P="$1"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export OMP_NUM_THREADS=1

"$P" mpnp --help > "$T/h.txt" || fail "--help exit $?"
for o in --model --kernel --t-noise --pseudo --samples --seed --json; do
  grep -q -- "$o" "$T/h.txt" || fail "--help lacks $o"
done
"$P" mpnp > /dev/null 2> "$T/e.txt"; rc=$?
[ $rc = 2 ] || fail "no subcommand: exit $rc, expected 2"

# train a tiny MPNP: the seed is printed, the model file is written, eval reads it
small="--width 8 --enc-depth 2 --dec-depth 2 --heads 2 --pseudo 4 --samples 2 --steps 6 --batch 4"
"$P" mpnp train $small --out "$T/m.st" > "$T/o.txt" 2> "$T/e.txt" || fail "train exit $?: $(cat "$T/e.txt")"
grep -q "seed 42" "$T/o.txt" || fail "no seed in: $(cat "$T/o.txt")"
[ -s "$T/m.st" ] || fail "no model file"
"$P" mpnp eval "$T/m.st" --batches 2 --batch 4 --samples 3 > "$T/v.txt" || fail "eval exit $?"
grep -q "^mpnp on 8 tasks (seed 42, 3 draws): context ll " "$T/v.txt" || fail "eval output: $(cat "$T/v.txt")"

# --json: parses, deterministic for a seed, different for another seed
a=$("$P" mpnp eval "$T/m.st" --batches 2 --batch 4 --samples 3 --json --seed 7) || fail "json exit $?"
b=$("$P" mpnp eval "$T/m.st" --batches 2 --batch 4 --samples 3 --json --seed 7)
c=$("$P" mpnp eval "$T/m.st" --batches 2 --batch 4 --samples 3 --json --seed 8)
[ "$a" = "$b" ] || fail "eval not deterministic for a fixed seed"
[ "$a" != "$c" ] || fail "seed has no effect"
echo "$a" | grep -q '"seed": 7' || fail "json lacks the seed"
j=$("$P" mpnp train $small --model cnp --json --out "$T/c.st") || fail "train json exit $?"
echo "$j" | grep -q '"model": "cnp"' || fail "train json: $j"
if [ -x /usr/bin/python3 ]; then
  echo "$a" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["model"] == "mpnp" and d["tasks"] == 8' \
    || fail "eval json does not parse: $a"
  echo "$j" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["steps"] == 6' || fail "train json: $j"
  one=$("$P" mpnp eval "$T/m.st" --batches 1 --batch 2 --samples 2 --json) || fail "one-batch eval exit $?"
  echo "$one" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["tar_se"] is None' \
    || fail "one-batch json: $one"
fi
"$P" mpnp eval "$T/c.st" --kernel periodic --t-noise 0.1 --batches 1 --batch 2 > /dev/null || fail "eval periodic exit $?"

# usage errors: exit 2, a message, nothing written
for bad in "--model gp" "--kernel cubic" "--width 2" "--pseudo -1" "--steps 0" "--width 10 --heads 4" "--bogus" ""; do
  "$P" mpnp train $small $bad ${bad:+--out "$T/bad.st"} > /dev/null 2> "$T/e.txt"; rc=$?
  [ $rc = 2 ] || fail "'$bad': exit $rc, expected 2"
  [ -s "$T/e.txt" ] || fail "'$bad': no message"
  [ ! -e "$T/bad.st" ] || fail "'$bad': wrote output"
done
"$P" mpnp train --kernel cubic --out "$T/bad.st" 2> "$T/e.txt"; grep -q -- '--kernel' "$T/e.txt" || fail "message does not name --kernel"
# bad inputs: exit 1 naming the file
"$P" mpnp eval "$T/none.st" > /dev/null 2> "$T/e.txt"; rc=$?
[ $rc = 1 ] || fail "missing model: exit $rc"; grep -q "none.st" "$T/e.txt" || fail "missing model not named"
echo "not a model" > "$T/junk.st"
"$P" mpnp eval "$T/junk.st" > /dev/null 2> "$T/e.txt"; rc=$?
[ $rc = 1 ] || fail "junk model: exit $rc"; grep -q "junk.st" "$T/e.txt" || fail "junk model not named"
"$P" mpnp train $small --out "$T/no/such/dir/m.st" > /dev/null 2> "$T/e.txt"; rc=$?
[ $rc = 1 ] || fail "unwritable output: exit $rc"
exit 0
