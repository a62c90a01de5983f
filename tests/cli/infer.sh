#!/usr/bin/env bash
# probkit infer: exit codes, messages, outputs.  $1 = probkit, $2 = source dir.
set -u
pk=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$pk" infer --help | grep -q "probkit infer run MODEL" || fail "help"
"$pk" infer run no-such-model >/dev/null 2>"$tmp/err"; [ $? -eq 2 ] || fail "unknown model exit code"
grep -q "unknown model 'no-such-model'" "$tmp/err" || fail "unknown model message"
"$pk" infer run eight-schools --algo smc >/dev/null 2>&1; [ $? -eq 2 ] || fail "wrong algo exit code"
"$pk" infer run eight-schools --draws zero >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad number exit code"

# NUTS with draws written atomically, then summarised; same seed, same draws.
"$pk" infer run eight-schools --warmup 300 --draws 200 --seed 3 --out "$tmp/a.csv" > "$tmp/run.txt" || fail "run"
grep -q "^mu " "$tmp/run.txt" || fail "summary table"
"$pk" infer run eight-schools --warmup 300 --draws 200 --seed 3 --out "$tmp/b.csv" >/dev/null || fail "rerun"
cmp -s "$tmp/a.csv" "$tmp/b.csv" || fail "not deterministic for a seed"
head -1 "$tmp/a.csv" | grep -q "^chain,draw,mu,log_tau,eta\[1\]" || fail "draws header"
[ "$(wc -l < "$tmp/a.csv")" -eq 801 ] || fail "draws rows"
"$pk" infer summary "$tmp/a.csv" --json > "$tmp/s.json" || fail "summary"
grep -q '"chains": 4, "draws": 200' "$tmp/s.json" || fail "summary chains"
/usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/s.json" 2>/dev/null || \
  { command -v /usr/bin/python3 >/dev/null && fail "summary --json is not valid JSON"; }
"$pk" infer run hmm --algo smc --json > "$tmp/r.json" || fail "run json"
/usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/r.json" 2>/dev/null || \
  { command -v /usr/bin/python3 >/dev/null && fail "run --json is not valid JSON"; }
ls "$tmp" | grep -q tmp && fail "temp file left behind"

# Programs: enumeration is exact, SMC prints the evidence.
"$pk" infer run sprinkler --algo enum | grep -q "E\[rain\] = 0.707928" || fail "enumeration"
"$pk" infer run hmm --algo smc --json | grep -q '"log_evidence"' || fail "smc json"
"$pk" infer run beta-bernoulli --algo enum >/dev/null 2>"$tmp/err"; [ $? -eq 1 ] || fail "enum of continuous exit"
grep -q "continuous" "$tmp/err" || fail "enum message"

# Bad input files.
printf 'a,b\n1,2\n3,n/a\n' > "$tmp/nan.csv"
"$pk" infer summary "$tmp/nan.csv" >/dev/null 2>"$tmp/err"; [ $? -eq 1 ] || fail "NaN draws exit"
grep -q "nan.csv" "$tmp/err" || fail "NaN draws message names the file"
"$pk" infer summary "$tmp/missing.csv" >/dev/null 2>"$tmp/err"; [ $? -eq 1 ] || fail "missing file exit"
printf 'a\n1\n2\n' > "$tmp/short.csv"
"$pk" infer summary "$tmp/short.csv" >/dev/null 2>"$tmp/err"; [ $? -eq 1 ] || fail "too few draws exit"
echo "infer cli ok"
