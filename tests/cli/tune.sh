#!/bin/bash
# probkit tune: a study end to end, failures, bad input, resume after a kill, parallel trials.
# $1 = probkit binary, $2 = source dir.
set -u
P="$1"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
fail() { echo "FAIL: $*" >&2; exit 1; }

cat > space.json <<'J'
{"params": [{"name": "x", "type": "float", "low": -2, "high": 2},
            {"name": "n", "type": "int", "low": 1, "high": 5},
            {"name": "opt", "type": "categorical", "choices": ["sgd", "adam"]}]}
J
# objective (x - 0.5)^2 + |n - 3| + [opt == sgd]; fails when n == 5, prints no number when n == 1 and x < -1.5
cat > obj.sh <<'J'
#!/bin/sh
[ -n "${TRACE:-}" ] && echo "$PROBKIT_TRIAL start $(date +%s.%N)" >> "$TRACE"
[ -n "${SLEEP:-}" ] && sleep "$SLEEP"
[ -n "${TRACE:-}" ] && echo "$PROBKIT_TRIAL end $(date +%s.%N)" >> "$TRACE"
[ "$2" = 5 ] && { echo "diverged" >&2; exit 3; }
[ "$PROBKIT_PARAM_N" = "$2" ] || { echo "env mismatch" >&2; exit 4; }
awk -v x="$1" -v n="$2" -v o="$3" 'BEGIN {
  if (n == 1 && x < -1.5) { print "nan-ish output"; exit 0 }
  d = n - 3; if (d < 0) d = -d;
  printf "epoch 1 loss 9\nobjective: %.10f\n", (x - 0.5)^2 + d + (o == "sgd") }'
J
chmod +x obj.sh

"$P" tune --help | grep -q "usage: probkit tune" || fail "help"
"$P" tune -- ./obj.sh 2>/dev/null; [ $? -eq 2 ] || fail "missing --space should exit 2"
"$P" tune --space space.json 2>/dev/null; [ $? -eq 2 ] || fail "missing command should exit 2"
"$P" tune --space space.json --method nope -- ./obj.sh 2>/dev/null; [ $? -eq 2 ] || fail "bad method should exit 2"

echo '{"params": [{"name": "x", "type": "float", "low": 0}' > bad1.json
"$P" tune --space bad1.json --journal j0 -- ./obj.sh 2>err; [ $? -eq 1 ] || fail "malformed space exit"
grep -q "bad1.json" err && grep -q "invalid JSON" err || fail "malformed space message: $(cat err)"
echo '{"params": [{"name": "x", "type": "gaussian"}]}' > bad2.json
"$P" tune --space bad2.json --journal j0 -- ./obj.sh 2>err; [ $? -eq 1 ] || fail "unknown type exit"
grep -q 'unknown type "gaussian"' err || fail "unknown type message: $(cat err)"
"$P" tune --space space.json --journal j0 -- ./no-such-program 2>err; [ $? -eq 1 ] || fail "missing command exit"
grep -q "cannot start './no-such-program'" err || fail "missing command message: $(cat err)"
[ ! -e j0 ] || fail "journal written although the study never started"

# a study with failures and a no-number output
"$P" tune --space space.json --budget 14 --seed 3 --journal j1 --plot best.svg --quiet -- ./obj.sh {x} {n} {opt} >out 2>err
[ $? -eq 0 ] || fail "study exit: $(cat err)"
[ "$(wc -l < j1)" -eq 15 ] || fail "journal should have header + 14 lines"
grep -q '"status":"ok"' j1 || fail "no ok trial"
grep -q "^best: trial" out || fail "no best line"
grep -q "<svg" best.svg || fail "no plot"
if grep -q '"status":"failed"' j1; then
  grep -q "exit status 3: diverged\|output has no number" j1 || fail "failure reason missing"
fi
best=$(sed -n 's/^best: trial [0-9]*, value //p' out)
awk -v b="$best" 'BEGIN { exit !(b < 1.5) }' || fail "best $best not below 1.5 after 14 trials"

# a failing command never stops the study
cat > always_fail.sh <<'J'
#!/bin/sh
echo "boom" >&2
exit 1
J
chmod +x always_fail.sh
"$P" tune --space space.json --budget 3 --journal j2 --quiet -- ./always_fail.sh >out 2>err
[ $? -eq 0 ] || fail "all-failing study should still finish"
[ "$(grep -c '"status":"failed"' j2)" -eq 3 ] || fail "three failed records expected"
grep -q "no trial succeeded" out || fail "report of no success"

# an existing journal is refused without --resume
"$P" tune --space space.json --budget 3 --journal j1 -- ./obj.sh {x} {n} {opt} 2>err; [ $? -eq 1 ] || fail "existing journal"
grep -q "pass --resume" err || fail "existing journal message"
# a different space is refused on resume
sed 's/"high": 2}/"high": 3}/' space.json > space2.json
"$P" tune --space space2.json --resume --budget 16 --journal j1 -- ./obj.sh {x} {n} {opt} 2>err; [ $? -eq 1 ] || fail "space mismatch"
grep -q "different search space" err || fail "space mismatch message"

# resume after a kill: the journal holds whole lines, a torn tail is dropped
SLEEP=0.2 "$P" tune --space space.json --budget 40 --journal j3 --quiet -- ./obj.sh {x} {n} {opt} >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 100); do  # wait (up to 20 s) until two trials are journaled
  [ -f j3 ] && [ "$(wc -l < j3)" -ge 3 ] && break
  sleep 0.2
done
kill -9 $pid
wait $pid 2>/dev/null
n_before=$(wc -l < j3)
[ "$n_before" -ge 2 ] || fail "nothing journaled before the kill"
printf '{"trial":99,"status":"o' >> j3
"$P" tune --space space.json --resume --budget 12 --journal j3 --json -- ./obj.sh {x} {n} {opt} >out 2>err
[ $? -eq 0 ] || fail "resume exit: $(cat err)"
grep -q "incomplete last line" err || fail "torn line not reported"
[ "$(wc -l < j3)" -eq 13 ] || fail "resumed journal should have header + 12 lines, has $(wc -l < j3)"
/usr/bin/python3 - j3 <<'PY' || fail "journal lines are not all valid JSON with trials 1..12"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
recs = [json.loads(l) for l in lines[1:]]
assert sorted(r["trial"] for r in recs) == list(range(1, 13)), [r["trial"] for r in recs]
PY
grep -q '"trials": 12' out || fail "json summary"

# parallel trials overlap in time (checked from the trials' own start/end stamps)
TRACE="$T/trace" SLEEP=0.5 "$P" tune --space space.json --budget 6 --parallel 3 --journal j4 --quiet -- ./obj.sh {x} {n} {opt} >/dev/null 2>err || fail "parallel: $(cat err)"
[ "$(wc -l < j4)" -eq 7 ] || fail "parallel journal"
awk '$2 == "start" { s[$1] = $3 } $2 == "end" { e[$1] = $3 }
  END { for (i in s) for (j in s) if (i != j && (j in e) && s[i] > s[j] && s[i] < e[j]) ov = 1; exit !ov }' "$T/trace" ||
  fail "no two trials ran at the same time: $(cat "$T/trace")"

# timeout
"$P" tune --space space.json --budget 2 --timeout 0.3 --journal j5 --quiet -- sleep 5 >out 2>err
grep -q "timed out" j5 || fail "timeout not recorded"
echo "tune CLI: all checks passed"
