#!/bin/bash
# CLI tests of probkit calibration / provenance / weights: outputs, JSON, errors.
set -u
bin=$1
src=$2
fx=$src/tests/fixtures/metrics
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # description, condition-command...
    local d=$1
    shift
    if ! "$@"; then
        echo "FAIL: $d" >&2
        fail=1
    fi
}
json_num() { # key, file -> the number after "key":
    sed -n "s/.*\"$1\": \([-0-9.eE+]*\).*/\1/p" "$2" | head -1
}
close() { # a b tol
    awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && d <= t) }'
}

# --- calibration: build a CSV from the sklearn fixture rows and compare with its values
awk 'BEGIN { print "p,y,p_true" } $1 == "row" { print $2 "," $3 "," $4 }' "$fx/calibration.txt" > "$tmp/preds.csv"
"$bin" calibration "$tmp/preds.csv" --json > "$tmp/c.json" 2> "$tmp/c.err"
check "calibration exit 0" test $? -eq 0
check "brier = sklearn" close "$(json_num brier "$tmp/c.json")" "$(awk '$1=="brier"{print $2}' "$fx/calibration.txt")" 1e-12
check "auc = sklearn" close "$(json_num auc "$tmp/c.json")" "$(awk '$1=="auc"{print $2}' "$fx/calibration.txt")" 1e-12
check "nll = sklearn" close "$(json_num nll "$tmp/c.json")" "$(awk '$1=="logloss"{print $2}' "$fx/calibration.txt")" 1e-12
"$bin" calibration "$tmp/preds.csv" --recal all --plot "$tmp/rel.svg" > "$tmp/c.txt"
check "recal table has isotonic column" grep -q isotonic "$tmp/c.txt"
check "reliability SVG written" grep -q "<svg" "$tmp/rel.svg"
check "--seed printed" grep -q "seed 42" "$tmp/c.txt"
# errors: probability out of range, missing column, single class only affects AUC, bad option
printf 'p,y\n0.5,1\n1.2,0\n' > "$tmp/bad.csv"
"$bin" calibration "$tmp/bad.csv" > "$tmp/o" 2> "$tmp/e"
check "bad probability exit 1" test $? -eq 1
check "bad probability named" grep -q "1.2" "$tmp/e"
printf 'q,y\n0.5,1\n' > "$tmp/nocol.csv"
"$bin" calibration "$tmp/nocol.csv" > "$tmp/o" 2> "$tmp/e"
check "missing column exit 1" test $? -eq 1
check "missing column named" grep -q "probability column" "$tmp/e"
printf 'p,y\n0.5,1\n0.7,\n' > "$tmp/na.csv"
"$bin" calibration "$tmp/na.csv" > "$tmp/o" 2> "$tmp/e"
check "missing value exit 1" test $? -eq 1
printf 'p,y\n0.5,1\n0.7,1\n' > "$tmp/one.csv"
"$bin" calibration "$tmp/one.csv" --json > "$tmp/o" 2> "$tmp/e"
check "single class still reports (AUC null)" grep -q '"auc": null' "$tmp/o"
"$bin" calibration "$tmp/one.csv" --recal platt > "$tmp/o" 2> "$tmp/e"
check "single class recalibration: runs with base-rate fallback or fails clearly" test $? -le 1
"$bin" calibration --bins 0 "$tmp/preds.csv" > "$tmp/o" 2> "$tmp/e"
check "bad --bins exit 2" test $? -eq 2
rm -f "$tmp/rel2.svg"
"$bin" calibration "$tmp/bad.csv" --plot "$tmp/rel2.svg" > /dev/null 2>&1
check "no plot written on error" test ! -e "$tmp/rel2.svg"

# --- provenance: against scipy.stats.spearmanr on the same file
"$bin" provenance "$fx/provenance_losses.csv" --ref ref_loss --json > "$tmp/p.json"
check "provenance exit 0" test $? -eq 0
read -r rho lp < "$fx/provenance_losses.expected"
check "rho = scipy" close "$(json_num rho "$tmp/p.json")" "$rho" 1e-9
check "log10 p = scipy" close "$(json_num log10_p_two_sided "$tmp/p.json")" "$lp" 1e-5
printf -- '-0.01\n0.02\n0.00\n-0.03\n0.01\n' | sed '1i stat' > "$tmp/null.csv"
"$bin" provenance --observed 0.2 --null "$tmp/null.csv" > "$tmp/r.txt"
check "reshuffle exit 0" test $? -eq 0
check "reshuffle prints z" grep -q "z = " "$tmp/r.txt"
"$bin" provenance "$fx/provenance_losses.csv" --loss nosuch > "$tmp/o" 2> "$tmp/e"
check "unknown column exit 1" test $? -eq 1
check "unknown column named" grep -q "nosuch" "$tmp/e"
"$bin" provenance --observed 1 > "$tmp/o" 2> "$tmp/e"
check "reshuffle without --null exit 2" test $? -eq 2

# --- weights: Gaussian tensor in the transmission band, tiny tensor skipped
"$bin" weights "$fx/weights_small.safetensors" --json > "$tmp/w.json"
check "weights exit 0" test $? -eq 0
check "ffn tensor listed" grep -q '"ffn.weight"' "$tmp/w.json"
check "bias skipped" grep -q '"skipped": 1' "$tmp/w.json"
kf=$(sed -n 's/.*"ffn.weight", "n": 8192, "k": \([0-9.]*\).*/\1/p' "$tmp/w.json")
check "ffn k near 1.2 (8192 values)" close "$kf" 1.2054 0.05
"$bin" weights "$fx/weights_small.safetensors" --filter nothing > "$tmp/o" 2> "$tmp/e"
check "no matching tensor exit 1" test $? -eq 1
printf 'garbage' > "$tmp/bad.safetensors"
"$bin" weights "$tmp/bad.safetensors" > "$tmp/o" 2> "$tmp/e"
check "corrupt file exit 1" test $? -eq 1
check "corrupt file message" test -s "$tmp/e"
exit $fail
