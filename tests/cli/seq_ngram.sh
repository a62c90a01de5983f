#!/bin/sh
# CLI test of `probkit ngram`: byte and BPE models, BPE train/encode, bad input.
set -u
P="$1"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
i=0
while [ $i -lt 60 ]; do
  echo "the cat sat on the mat number $i and the dog sat on the log"
  echo "a fox jumps over the lazy dog while the cat sleeps $i"
  i=$((i + 1))
done >"$T/text.txt"
"$P" ngram --help | grep -q "usage: probkit ngram train" || fail "help"
"$P" ngram train "$T/text.txt" --order 4 --json >"$T/o" || fail "train bytes"
grep -q '"bits_per_byte"' "$T/o" || fail "train json"
b4=$(sed 's/.*"bits_per_byte": \([0-9.e+-]*\).*/\1/' "$T/o")
"$P" ngram train "$T/text.txt" --order 1 --json >"$T/o1" || fail "train order 1"
b1=$(sed 's/.*"bits_per_byte": \([0-9.e+-]*\).*/\1/' "$T/o1")
awk -v a="$b4" -v b="$b1" 'BEGIN { exit !(a < b) }' || fail "4-gram ($b4) not better than unigram ($b1)"
"$P" ngram train "$T/text.txt" --unit bpe --merges 50 >"$T/o" || fail "train bpe"
grep -q "bits/byte" "$T/o" || fail "bpe output"
printf 'h\303\251llo w\303\266rld\nna\303\257ve caf\303\251\nh\303\251llo caf\303\251\nw\303\266rld na\303\257ve\n' >"$T/u.txt"
"$P" ngram train "$T/u.txt" --unit char --order 2 --json >"$T/o" || fail "train char"
grep -q '"vocab": 17' "$T/o" || fail "char vocabulary (16 characters + unseen): $(cat "$T/o")"
"$P" ngram bpe "$T/text.txt" --merges 40 --out "$T/m.txt" >/dev/null || fail "bpe"
head -1 "$T/m.txt" | grep -q "^probkit-bpe 1$" || fail "bpe file header"
"$P" ngram encode --bpe "$T/m.txt" "$T/text.txt" >"$T/enc" || fail "encode"
[ "$(wc -l <"$T/enc")" -eq 120 ] || fail "encode line count"
# bad input
: >"$T/empty.txt"
"$P" ngram train "$T/empty.txt" 2>"$T/err"; [ $? -eq 1 ] || fail "empty exit"
grep -q "empty.txt" "$T/err" || fail "empty message"
printf 'probkit-bpe 1\n97 98\nxx\n' >"$T/bad.txt"
"$P" ngram encode --bpe "$T/bad.txt" "$T/text.txt" 2>"$T/err"; [ $? -eq 1 ] || fail "bad merges exit"
grep -q "bad.txt:3" "$T/err" || fail "bad merges message: $(cat "$T/err")"
"$P" ngram train "$T/text.txt" --order 0 2>/dev/null; [ $? -eq 2 ] || fail "bad order exit"
echo "seq_ngram: ok"
