#!/bin/sh
# probkit theory: usage errors, the closed forms' values, a missing file.
P="$1"
fail() { echo "FAIL: $*" >&2; exit 1; }
"$P" theory --help | grep -q "gendiff" || fail "help"
"$P" theory >/dev/null 2>&1; [ $? -eq 2 ] || fail "no subcommand should exit 2"
"$P" theory nope >/dev/null 2>&1; [ $? -eq 2 ] || fail "unknown subcommand should exit 2"
"$P" theory ntk --act bogus 2>&1 >/dev/null | grep -q "act 'bogus'" || fail "bad activation message"
"$P" theory ntk --xi 2 >/dev/null 2>&1; [ $? -eq 2 ] || fail "--xi out of range should exit 2"
# ReLU NNGP after one layer at xi = 0 is 1/pi
"$P" theory ntk --act relu --depth 1 --xi 0 --json | grep -q '"nngp_log": -1.1447298858494' || fail "relu nngp"
out=$("$P" theory gamp --kappa 0.5 --alpha 0.231 --json) || fail "gamp run"
echo "$out" | grep -q '"mse": 0.299' || fail "gamp anchor: $out"
# GAMP-RIE on the network's own design (d = 40, alpha = 0.45: near-perfect recovery)
out=$("$P" theory gamp --kappa 0.5 --alpha 0.45 --run 40 --iters 200 --seed 3 --json) || fail "gamp --run"
echo "$out" | grep -q '"seed": 3' || fail "gamp --run prints its seed: $out"
amp=$(echo "$out" | sed 's/.*"gamp_rie_mse": \([^,}]*\).*/\1/')
awk -v a="$amp" 'BEGIN { exit !(a < 0.01) }' || fail "gamp --run mse $amp not < 0.01"
"$P" theory gamp --run 2 >/dev/null 2>&1; [ $? -eq 2 ] || fail "--run 2 should exit 2"
"$P" theory gamp --damping 1 >/dev/null 2>&1; [ $? -eq 2 ] || fail "--damping 1 should exit 2"
"$P" theory gendiff --reps 1 a b >/dev/null 2>&1; [ $? -eq 2 ] || fail "--reps 1 should exit 2"
"$P" theory rf --n 64 --k 16 --ridge 0.01 --modes 300 | grep -q "test MSE" || fail "rf"
"$P" theory rf --ridge -1 >/dev/null 2>&1; [ $? -eq 2 ] || fail "negative ridge should exit 2"
"$P" theory gendiff /nonexistent/img /nonexistent/lab >/dev/null 2>"${TMPDIR:-/tmp}/pk_theory_err.$$"; rc=$?
grep -q "/nonexistent/img" "${TMPDIR:-/tmp}/pk_theory_err.$$" || { rm -f "${TMPDIR:-/tmp}/pk_theory_err.$$"; fail "missing-file message"; }
rm -f "${TMPDIR:-/tmp}/pk_theory_err.$$"
[ $rc -eq 1 ] || fail "missing file should exit 1"
# gendiff --exact on 120 tiny IDX images (3 pixels): class 0 at (x, 0, 0), class 1 at
# (x, 40, 0), x = 0..59, so the exact separation is 40 / 255
T="${TMPDIR:-/tmp}/pk_theory_idx.$$"
mkdir -p "$T" || fail "tmpdir"
printf '\000\000\010\003\000\000\000\170\000\000\000\001\000\000\000\003' >"$T/img"
printf '\000\000\010\001\000\000\000\170' >"$T/lab"
printf "$(awk 'BEGIN { for (i = 0; i < 120; i++) printf "\\%03o\\%03o\\000", i % 60, (i < 60 ? 0 : 40) }')" >>"$T/img"
printf "$(awk 'BEGIN { for (i = 0; i < 120; i++) printf "\\%03o", (i < 60 ? 0 : 1) }')" >>"$T/lab"
out=$("$P" theory gendiff "$T/img" "$T/lab" --exact --reps 2 --json) || { rm -rf "$T"; fail "gendiff --exact run"; }
rm -rf "$T"
echo "$out" | grep -q '"delta": 0.15686274509803' || fail "gendiff --exact delta: $out"
echo "$out" | grep -q '"delta_method": "exact"' || fail "gendiff --exact method: $out"
"$P" theory gendiff a b --exact --pop 100 >/dev/null 2>&1; [ $? -eq 2 ] || fail "--exact --pop should exit 2"
exit 0
