#!/bin/bash
# probkit continual on a tiny CSV and on the toy problem; bad input gets a clear message and exit code.
set -u
P="$1"
S="$2"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
fail() { echo "FAIL: $*" >&2; exit 1; }
TINY="--chains 1 --warmup 60 --draws 40"
"$P" continual --help | grep -q "usage: probkit continual" || fail "help"
"$P" continual "$S/tests/fixtures/continual/two_tasks.csv" --mode joint $TINY --json > j1 2> err || fail "joint: $(cat err)"
grep -q '"tasks": 2' j1 || fail "json: $(cat j1)"
"$P" continual "$S/tests/fixtures/continual/two_tasks.csv" --mode joint $TINY --json > j2 2> /dev/null || fail "rerun"
cmp -s j1 j2 || fail "same seed, different output"
"$P" continual "$S/tests/fixtures/continual/two_tasks.csv" $TINY --max-components 2 > out 2> err || fail "sequential: $(cat err)"
grep -q "mode sequential, seed 42, 2 tasks" out || fail "header: $(cat out)"
grep -q "task 2 of 2 learnt" err || fail "progress"
"$P" continual --n 200 $TINY --max-components 1 --mode fresh --json > toy 2> /dev/null || fail "toy"
grep -q '"tasks": 5' toy || fail "toy json: $(cat toy)"
"$P" continual "$S/tests/fixtures/continual/two_tasks.csv" --method protocl --hidden 16 --memory 20 --epochs 3 --json > pj 2> /dev/null || fail "protocl"
grep -q '"method": "protocl"' pj || fail "protocl json: $(cat pj)"
# bad input
"$P" continual --method protocl --hidden 100 --n 40 --epochs 1 --memory 0 > /dev/null 2>&1 || fail "protocl accepts a wide encoder"
"$P" continual --hidden 100 2> err; [ $? -eq 2 ] || fail "hmc hidden range exit"
grep -q "hidden for hmc must be in" err || fail "hmc hidden message"
"$P" continual --mode bogus 2> err; [ $? -eq 2 ] || fail "bad mode exit"
grep -q "sequential|joint|fresh" err || fail "bad mode message"
printf 'x1,x2,task,label\n1,2,0,0\n1,nan,0,1\n' > nan.csv
"$P" continual nan.csv 2> err; [ $? -eq 1 ] || fail "nan exit"
grep -q "nan.csv: row 2, column 'x2'" err || fail "nan message: $(cat err)"
printf 'x1,x2,task,label\n1,2,0,0.5\n1,2,0,1\n1,2,0,1\n' > frac.csv
"$P" continual frac.csv 2> err; [ $? -eq 1 ] || fail "fractional label exit"
grep -q "label an integer" err || fail "label message: $(cat err)"
printf 'x1,task,label\n1,0,0\n' > one.csv
"$P" continual one.csv 2> err; [ $? -eq 1 ] || fail "tiny task exit"
grep -q "too few" err || fail "tiny task message: $(cat err)"
"$P" continual missing.csv 2> err; [ $? -eq 1 ] || fail "missing file exit"
grep -q "missing.csv" err || fail "missing file message"
exit 0
