#!/bin/bash
# probkit disttf train / eval / infer on a tiny network; bad input gets a clear message and no output file.
set -u
P="$1"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
fail() { echo "FAIL: $*" >&2; exit 1; }
TINY="--task range --d-model 16 --heads 2 --enc 1 --dec 1 --steps 40 --batch 8"
"$P" disttf --help | grep -q "usage: probkit disttf train" || fail "help"
"$P" disttf train $TINY --out m.safetensors --seed 3 > out 2> err || fail "train: $(cat err)"
grep -q "seed 3" err || fail "seed not printed"
grep -q "final -log q" out || fail "no final loss"
"$P" disttf train $TINY --out m2.safetensors --seed 3 > /dev/null 2>&1 || fail "second train"
cmp -s m.safetensors m2.safetensors || fail "same seed gave different models"
"$P" disttf eval m.safetensors --problems 10 --grid 64 --json > ev.json || fail "eval"
grep -q '"reference": "grid"' ev.json || fail "eval json: $(cat ev.json)"
cat > prior.json <<'J'
{"weights": [0.6, 0.4], "means": [[0, 0], [2, 1]], "covariances": [[[1, 0.2], [0.2, 1]], [[0.5, 0], [0, 0.5]]]}
J
printf 'sx,sy,r\n1,1,1.5\n-2,0,2.2\n0,3,2.9\n' > obs.csv
"$P" disttf infer m.safetensors --prior prior.json --data obs.csv --batch 2 --out post.json || fail "infer"
/usr/bin/python3 - post.json <<'PY' || fail "posterior json: $(cat post.json)"
import json, sys
g = json.load(open(sys.argv[1]))
assert len(g["weights"]) == 4 and abs(sum(g["weights"]) - 1) < 1e-6
assert all(len(m) == 2 for m in g["means"])
for c in g["covariances"]:
    assert c[0][0] > 0 and c[1][1] > 0 and abs(c[0][1] - c[1][0]) < 1e-9 and c[0][0] * c[1][1] > c[0][1] ** 2
PY
# bad input: clear message, exit code 1, no output file
echo '{"weights": [1]}' > bad.json
"$P" disttf infer m.safetensors --prior bad.json --data obs.csv --out p2.json 2> err; [ $? -eq 1 ] || fail "bad prior exit"
grep -q "bad.json: need arrays" err || fail "bad prior message: $(cat err)"
[ ! -e p2.json ] || fail "output written on failure"
echo '{"weights": [1], "means": [[0, 0]], "covariances": [[[1, 2], [2, 1]]]}' > npd.json
"$P" disttf infer m.safetensors --prior npd.json --data obs.csv 2> err; [ $? -eq 1 ] || fail "non-PD exit"
grep -q "not positive definite" err || fail "non-PD message: $(cat err)"
printf 'a,b\n1,2\n' > short.csv
"$P" disttf infer m.safetensors --prior prior.json --data short.csv 2> err; [ $? -eq 1 ] || fail "columns exit"
grep -q "short.csv: 2 columns, expected 3" err || fail "columns message: $(cat err)"
printf 'sx,sy,r\n1,1,nan\n' > nan.csv
"$P" disttf infer m.safetensors --prior prior.json --data nan.csv 2> err; [ $? -eq 1 ] || fail "nan exit"
grep -q "nan.csv: row 2" err || fail "nan message: $(cat err)"
"$P" disttf eval prior.json 2> err; [ $? -eq 1 ] || fail "not a model exit"
grep -q "prior.json" err || fail "not a model message: $(cat err)"
"$P" disttf train --task range --d 3 --out x 2> err; [ $? -eq 2 ] || fail "usage exit"
[ ! -e x ] || fail "model written on usage error"
exit 0
