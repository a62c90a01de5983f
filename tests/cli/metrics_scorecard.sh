#!/bin/bash
# CLI tests of probkit scorecard / embeddings / multisample / earlystop.
set -u
bin=$1
src=$2
fx=$src/tests/fixtures/metrics
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() {
    local d=$1
    shift
    if ! "$@"; then
        echo "FAIL: $d" >&2
        fail=1
    fi
}
close() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && d <= t) }'; }

# --- scorecard on the simulator
"$bin" scorecard --simulate 4000 --seed 3 --out "$tmp/sim.csv" 2> "$tmp/e"
check "simulate exit 0" test $? -eq 0
check "simulate prints seed" grep -q "seed 3" "$tmp/e"
check "simulated header" grep -q "^mortgage,balance,amount_past_due,utilization,delinquency,inquiry,open_trade,default,protected" "$tmp/sim.csv"
check "simulated rows" test "$(wc -l < "$tmp/sim.csv")" -eq 4001
"$bin" scorecard --simulate 1000 --seed 4 --out "$tmp/sim2.csv" 2> /dev/null
"$bin" scorecard "$tmp/sim.csv" --target default --protected protected --drift "$tmp/sim2.csv" > "$tmp/s.txt"
check "scorecard exit 0" test $? -eq 0
check "scorecard lists mortgage" grep -q "^mortgage" "$tmp/s.txt"
check "scorecard frontier" grep -q "fairness frontier" "$tmp/s.txt"
"$bin" scorecard "$tmp/sim.csv" --target default --json > "$tmp/s.json"
check "scorecard json" grep -q '"auc_lr_woe_in_sample": 0\.[5-9]' "$tmp/s.json"
# a text column is binned by its levels: 'a' and 'c' are safe, 'b' risky; a drift file
# with the levels in another order and an unseen level still maps by name
awk 'BEGIN { srand(5); print "grade,score,y";
    for (i = 0; i < 3000; i++) { g = substr("abc", i % 3 + 1, 1); r = (g == "b") ? 0.5 : 0.1;
        print g "," i % 17 "," (rand() < r ? 1 : 0) } }' > "$tmp/cat.csv"
printf 'grade,score,y\nc,1,0\nb,2,1\na,3,0\nd,4,0\nb,5,1\nb,6,0\n' > "$tmp/cat2.csv"
"$bin" scorecard "$tmp/cat.csv" --target y --bins --drift "$tmp/cat2.csv" > "$tmp/c.txt" 2> "$tmp/e"
check "categorical exit 0" test $? -eq 0
check "categorical feature listed" grep -q "^grade  *2 " "$tmp/c.txt"
check "safe levels share a bin" grep -Eq "^ *\{(a, c|c, a)\}" "$tmp/c.txt"
check "risky level alone" grep -q "^ *{b}" "$tmp/c.txt"
# drift: 3 of 6 rows in {b} (the unseen 'd' joins the largest bin) against 1000 of 3000
psi=$(awk '/^grade/ { print $8 }' "$tmp/c.txt")
check "categorical drift PSI" close "$psi" "$(awk 'BEGIN { printf "%.5f", (3/6 - 1/3) * log((3/6) / (1/3)) + (3/6 - 2/3) * log((3/6) / (2/3)) }')" 1e-5
"$bin" scorecard "$tmp/cat.csv" --target y --json > "$tmp/c.json"
check "categorical json levels" grep -q '"levels": \[\["[ac]", "[ac]"\], \["b"\]\]' "$tmp/c.json"
# level names are escaped in JSON
sed 's/^a,/a\\x,/' "$tmp/cat.csv" > "$tmp/cat3.csv"
"$bin" scorecard "$tmp/cat3.csv" --target y --json > "$tmp/c3.json"
check "escaped level name" grep -q '"a\\\\x"' "$tmp/c3.json"
# errors: missing target, single-class target, non-binary target, NaN feature
"$bin" scorecard "$tmp/sim.csv" > /dev/null 2> "$tmp/e"
check "no --target exit 2" test $? -eq 2
"$bin" scorecard "$tmp/sim.csv" --target nosuch > /dev/null 2> "$tmp/e"
check "unknown target exit 1" test $? -eq 1
printf 'x,y\n1,1\n2,1\n3,1\n4,1\n5,1\n6,1\n7,1\n8,1\n9,1\n10,1\n' > "$tmp/one.csv"
"$bin" scorecard "$tmp/one.csv" --target y > /dev/null 2> "$tmp/e"
check "single class exit 1" test $? -eq 1
check "single class message" grep -q "single class" "$tmp/e"
printf 'x,y\n1,0\n2,1\n3,2\n4,1\n5,0\n6,1\n7,0\n8,1\n9,0\n10,1\n' > "$tmp/nb.csv"
"$bin" scorecard "$tmp/nb.csv" --target y > /dev/null 2> "$tmp/e"
check "non-binary target exit 1" test $? -eq 1
printf 'x,y\n1,0\n,1\n3,0\n4,1\n5,0\n6,1\n7,0\n8,1\n9,0\n10,1\n' > "$tmp/na.csv"
"$bin" scorecard "$tmp/na.csv" --target y > /dev/null 2> "$tmp/e"
check "missing feature value exit 1" test $? -eq 1
check "missing value names row" grep -q "row 2" "$tmp/e"

# --- embeddings: Gaussian rows of the weights fixture are far from orthogonal at d = 128 with 64 rows
"$bin" embeddings "$fx/weights_small.safetensors" --tensor ffn.weight --json > "$tmp/e.json"
check "embeddings exit 0" test $? -eq 0
check "embeddings d" grep -q '"d": 128' "$tmp/e.json"
check "embeddings all pairs" grep -q '"pairs": 2016' "$tmp/e.json"
"$bin" embeddings "$fx/weights_small.safetensors" --tensor norm.bias > /dev/null 2> "$tmp/e"
check "1-D tensor rejected" test $? -eq 1
check "1-D message" grep -q "2-D" "$tmp/e"
"$bin" embeddings "$fx/weights_small.safetensors" --tensor nosuch > /dev/null 2> "$tmp/e"
check "unknown tensor exit 1" test $? -eq 1

# --- multisample
{
    for p in 1 2 3 4; do
        for s in 1 2 3 4 5 6 7 8 9 10; do
            c=false
            [ $((s % p)) -eq 0 ] && c=true
            printf '{"prompt": %d, "temperature": 0.7, "correct": %s, "answer": "%s"}\n' $p $c $c
        done
    done
} > "$tmp/ms.jsonl"
"$bin" multisample "$tmp/ms.jsonl" --k 1,5 --json > "$tmp/m.json"
check "multisample exit 0" test $? -eq 0
# accuracy = mean(10/10, 5/10, 3/10, 2/10) = 0.5
acc=$(sed -n 's/.*"accuracy": \([0-9.e-]*\).*/\1/p' "$tmp/m.json")
check "multisample accuracy 0.5" close "$acc" 0.5 1e-12
# pass@5 = mean(1, 1-C(5,5)/C(10,5), 1-C(7,5)/C(10,5), 1-C(8,5)/C(10,5)) = mean(1, 251/252, 231/252, 196/252)
p5=$(sed -n 's/.*"pass_at_k": {"1": [0-9.e-]*, "5": \([0-9.e-]*\)}.*/\1/p' "$tmp/m.json")
check "multisample pass@5" close "$p5" "$(awk 'BEGIN { printf "%.15g", (1 + 251/252 + 231/252 + 196/252) / 4 }')" 1e-9
printf '{"prompt": 1, "correct": "yes"}\n' > "$tmp/bad.jsonl"
"$bin" multisample "$tmp/bad.jsonl" > /dev/null 2> "$tmp/e"
check "bad correct exit 1" test $? -eq 1
check "bad correct names line" grep -q "bad.jsonl:1" "$tmp/e"
: > "$tmp/empty.jsonl"
"$bin" multisample "$tmp/empty.jsonl" > /dev/null 2> "$tmp/e"
check "empty file exit 1" test $? -eq 1

# --- earlystop: a curve with its minimum at epoch 5
printf 'epoch,train_loss,val_loss\n' > "$tmp/log.csv"
v=(1.0 0.8 0.7 0.65 0.62 0.60 0.61 0.63 0.66 0.70 0.75 0.80 0.85 0.9 0.95 1.0)
for i in "${!v[@]}"; do printf '%d,%s,%s\n' "$i" "$(awk -v i=$i 'BEGIN { print 1 / (1 + i) + 0.1 }')" "${v[$i]}" >> "$tmp/log.csv"; done
"$bin" earlystop "$tmp/log.csv" --rules GL5.5,P3 --json > "$tmp/es.json"
check "earlystop exit 0" test $? -eq 0
check "GL5.5 stops at 8" grep -q '"rule": "GL5.5", "fired": true, "stop": 8, "restored": 5' "$tmp/es.json"
check "P3 stops at 8" grep -q '"rule": "P3", "fired": true, "stop": 8' "$tmp/es.json"
"$bin" earlystop "$tmp/log.csv" --rules XX3 > /dev/null 2> "$tmp/e"
check "bad rule exit 2" test $? -eq 2
printf 'epoch,val_loss\n0,1\n1,-2\n' > "$tmp/bad.csv"
"$bin" earlystop "$tmp/bad.csv" > "$tmp/o" 2> "$tmp/e"
check "negative loss exit 1" test $? -eq 1
check "no partial table on error" test ! -s "$tmp/o"
exit $fail
