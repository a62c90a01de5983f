#!/bin/bash
# CLI tests for `probkit funcprior`: $1 = probkit binary, $2 = source dir.
set -u
P="$1"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export OMP_NUM_THREADS=1

"$P" funcprior --help > "$T/h.txt" || fail "--help exit $?"
grep -q -- '--kernel' "$T/h.txt" || fail "--help lacks --kernel"
grep -q -- '--seed' "$T/h.txt" || fail "--help lacks --seed"

# a small fit: the distance must drop, the seed is printed, the file reads back as JSON
small="--hidden 16 --steps 120 --samples 48 --measure 12 --proj 16 --lr 0.05"
"$P" funcprior $small --out "$T/prior.json" > "$T/o.txt" || fail "fit exit $?"
grep -q '^seed 42$' "$T/o.txt" || fail "no seed line: $(cat "$T/o.txt")"
grep -q "^wrote $T/prior.json" "$T/o.txt" || fail "no 'wrote' line"
grep -q '"format": "probkit-funcprior"' "$T/prior.json" || fail "prior file has no format"
grep -q '"w_std"' "$T/prior.json" || fail "prior file has no w_std"
line=$(grep '^sliced W1 distance' "$T/o.txt") || fail "no distance line"
before=$(echo "$line" | sed 's/.*: \([0-9.]*\) (N.*/\1/'); after=$(echo "$line" | sed 's/.*-> \([0-9.]*\) (matched)/\1/')
awk -v a="$after" -v b="$before" 'BEGIN { exit !(a < 0.5 * b) }' || fail "distance did not halve: $line"

# --json: machine-readable, deterministic for a seed, different for another seed
a=$("$P" funcprior $small --json --seed 7) || fail "json exit $?"
b=$("$P" funcprior $small --json --seed 7)
c=$("$P" funcprior $small --json --seed 8)
[ "$a" = "$b" ] || fail "not deterministic for a fixed seed"
[ "$a" != "$c" ] || fail "seed has no effect"
echo "$a" | grep -q '"seed": 7' || fail "json lacks the seed"
echo "$a" | grep -q '"distance_after": ' || fail "json lacks distance_after"
echo "$a" | grep -q '"out": null' || fail "json lacks out: null"
if command -v /usr/bin/python3 > /dev/null; then
  echo "$a" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d["w_std"]) == 2' || fail "json does not parse"
fi

# linear kernel, no hidden layer
"$P" funcprior --kernel linear --hidden 0 --dim 2 --steps 50 --samples 32 --measure 6 --proj 8 > "$T/l.txt" || fail "linear exit $?"

# usage errors: exit 2, a message naming the option, nothing written
for bad in "--hidden 5,,3" "--hidden x" "--hidden 0,4" "--kernel cubic" "--p 3" "--steps 0" "--lo 2 --hi 1" "--lengthscale -1" "--bogus"; do
  "$P" funcprior $bad --out "$T/bad.json" > "$T/o.txt" 2> "$T/e.txt"; rc=$?
  [ $rc = 2 ] || fail "'$bad': exit $rc, expected 2"
  [ -s "$T/e.txt" ] || fail "'$bad': no message"
  [ ! -e "$T/bad.json" ] || fail "'$bad': wrote output"
done
"$P" funcprior --hidden 5,,3 2> "$T/e.txt"; grep -q -- '--hidden' "$T/e.txt" || fail "message does not name --hidden"
# an unwritable output: exit 1 with the path named
"$P" funcprior $small --steps 2 --out "$T/no/such/dir/p.json" > /dev/null 2> "$T/e.txt"; rc=$?
[ $rc = 1 ] || fail "unwritable --out: exit $rc, expected 1"
grep -q "no/such/dir" "$T/e.txt" || fail "unwritable --out: path not named: $(cat "$T/e.txt")"
echo ok
