#!/bin/sh
# CLI test of `probkit transduce`: AT&T fixtures (compose, rmepsilon,
# determinize, distance), agreement with OpenFst's totals, the transduced LM.
set -u
P="$1"
S="$2"
F="$S/tests/fixtures/seq"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
"$P" transduce --help | grep -q "usage: probkit transduce compose" || fail "help"
while read -r i wc we wa; do
  "$P" transduce compose "$F/fst_${i}_a.att" "$F/fst_${i}_b.att" --out "$T/c.att" || fail "compose $i"
  if [ "$wc" != "inf" ]; then
    got=$("$P" transduce distance "$T/c.att") || fail "distance $i"
    awk -v a="$got" -v b="$wc" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d < 1e-5) }' ||
      fail "pair $i: composed total $got, OpenFst $wc"
  fi
  "$P" transduce rmepsilon "$F/fst_${i}_a.att" --out "$T/e.att" || fail "rmepsilon $i"
  got=$("$P" transduce distance "$T/e.att") || fail "distance e $i"
  awk -v a="$got" -v b="$we" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d < 1e-5) }' ||
    fail "pair $i: rmepsilon total $got, OpenFst $we"
done <"$F/fst_openfst_ref.txt"
# determinize an acceptor; non-acceptors are refused with a message
printf '0 1 1 1 0.5\n0 2 1 1 1.0\n1 3 2 2\n2 3 2 2 0.2\n3\n' >"$T/acc.att"
"$P" transduce determinize "$T/acc.att" --out "$T/d.att" || fail "determinize"
w1=$("$P" transduce distance "$T/acc.att"); w2=$("$P" transduce distance "$T/d.att")
awk -v a="$w1" -v b="$w2" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d < 1e-12) }' || fail "determinize weight"
"$P" transduce determinize "$F/fst_0_a.att" 2>"$T/err"; [ $? -eq 1 ] || fail "determinize non-acceptor exit"
grep -q "acceptor" "$T/err" || fail "determinize message"
# malformed AT&T input: line number, exit 1, no output file
printf '0 1 1 1\n1 2 x 1\n' >"$T/bad.att"
"$P" transduce rmepsilon "$T/bad.att" --out "$T/never.att" 2>"$T/err"; [ $? -eq 1 ] || fail "bad att exit"
grep -q "bad.att:2" "$T/err" || fail "bad att message: $(cat "$T/err")"
[ ! -e "$T/never.att" ] || fail "half-written output"
"$P" transduce compose "$F/fst_0_a.att" 2>/dev/null; [ $? -eq 2 ] || fail "compose usage"
# transduced LM: BPE tokens -> bytes
i=0
while [ $i -lt 40 ]; do echo "let there be light and there was light $i"; i=$((i + 1)); done >"$T/text.txt"
"$P" transduce lm "$T/text.txt" --fst bpe --merges 30 --target "let there be li" --json >"$T/o" || fail "lm bpe"
grep -q '"symbol": 103' "$T/o" || fail "lm bpe: 'g' missing from the top next symbols: $(cat "$T/o")"
"$P" transduce lm "$T/text.txt" --fst lower --target "let th" --top 3 >"$T/o" || fail "lm lower"
grep -q "'e'" "$T/o" || fail "lm lower next symbol"
"$P" transduce lm "$T/text.txt" --fst bogus --target x 2>/dev/null; [ $? -eq 2 ] || fail "lm bad fst"
echo "seq_transduce: ok"
