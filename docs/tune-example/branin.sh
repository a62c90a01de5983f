#!/bin/sh
# A stand-in for a training script: prints some log lines, then the objective
# (the Branin function, plus 1 when penalty=small).  Try:
#   probkit tune --space docs/tune-example/space.json --budget 30 --plot best.svg \
#       -- docs/tune-example/branin.sh {x} {y} {penalty}
# The same values are also in $PROBKIT_PARAM_X, $PROBKIT_PARAM_Y, $PROBKIT_PARAM_PENALTY.
awk -v x="$1" -v y="$2" -v p="$3" 'BEGIN {
  pi = atan2(0, -1); b = 5.1 / (4 * pi * pi); c = 5 / pi; t = 1 / (8 * pi);
  v = (y - b * x * x + c * x - 6) ^ 2 + 10 * (1 - t) * cos(x) + 10 + (p == "small");
  print "epoch 1: loss 1.23"; printf "objective: %.12g\n", v }'
