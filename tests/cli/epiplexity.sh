#!/bin/bash
# probkit epiplexity curve / eca: values, JSON, determinism, and clear errors on bad logs.
set -u
P="$1"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
fail() { echo "FAIL: $*" >&2; exit 1; }
"$P" epiplexity --help | grep -q "usage: probkit epiplexity curve" || fail "help"
printf 'step,loss,tokens\n1,0.7,10\n2,0.5,10\n3,0.3,10\n4,0.2,10\n' > log.csv
"$P" epiplexity curve log.csv --tokens-col tokens --final 0.2 --json > j || fail "curve: $(cat j)"
# total = 17 nats = 24.5258 bits, entropy = 8 nats = 11.5416 bits
grep -q '"total_bits": 24.52581' j || fail "total: $(cat j)"
grep -q '"entropy_bits": 11.54156' j || fail "entropy: $(cat j)"
"$P" epiplexity curve log.csv > out || fail "curve text"
grep -q "mean of the last 5% of steps" out || fail "default final not stated"
A="--rule 170 --width 16 --eca-steps 3 --burnin 10 --train-steps 60 --batch 8 --channels 2 --json"
"$P" epiplexity eca $A > e1 || fail "eca"
"$P" epiplexity eca $A > e2 || fail "eca rerun"
cmp -s e1 e2 || fail "same seed, different output"
grep -q '"rule": 170' e1 || fail "eca json: $(cat e1)"
"$P" epiplexity eca $A --observer mlp --hidden 8 > /dev/null || fail "mlp observer"
# bad input
printf 'step,loss\n1,0.5\n2,oops\n' > bad.csv
"$P" epiplexity curve bad.csv 2> err; [ $? -eq 1 ] || fail "bad loss exit"
grep -q "bad.csv:3: column 'loss'" err || fail "bad loss message: $(cat err)"
printf 'step,loss\n1,-0.5\n' > neg.csv
"$P" epiplexity curve neg.csv 2> err; [ $? -eq 1 ] || fail "negative loss exit"
"$P" epiplexity curve log.csv --loss-col nope 2> err; [ $? -eq 1 ] || fail "missing column exit"
grep -q "no column 'nope'" err || fail "missing column message"
"$P" epiplexity eca 2> err; [ $? -eq 2 ] || fail "eca without rule exit"
"$P" epiplexity eca --rule 300 2> err; [ $? -eq 2 ] || fail "rule range exit"
"$P" epiplexity bogus 2> err; [ $? -eq 2 ] || fail "unknown subcommand exit"
exit 0
