#!/bin/bash
# fetch_german_credit.sh — put the German Credit data in place for the credit
# scorecard (`probkit scorecard`, `probkit reproduce credit`) and verify it.
#
#   scripts/fetch_german_credit.sh        (no arguments; idempotent; offline once done)
#
# Source: Debian's r-cran-caret (GPL >= 2), data/GermanCredit.RData: the 1,000
# applicants of the UCI Statlog German Credit data (Hofmann, 1994) with caret's
# one-hot coding.  tests/ref/metrics_german_credit.R folds the dummies back into the
# 13 qualitative attributes and writes <data dir>/credit/german_credit.csv
# (22 columns: 20 attributes, `female`, `default`), plus LICENSE.txt beside it.
# Data dir: $PROBKIT_DATA, else <repo>/data.  Needs Rscript and r-cran-caret
# (apt-get install r-cran-caret).  Exit status: 0 when the file is present and its
# SHA-256 matches, 1 otherwise.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data=${PROBKIT_DATA:-$here/data}
out=$data/credit/german_credit.csv
RDATA=/usr/lib/R/site-library/caret/data/GermanCredit.RData
WANT=4f7eaf3bb7bc964c54a9aa63538dcc900021b45cab2b4c04ff261fe192c3601d

say() { printf 'fetch_german_credit: %s\n' "$*"; }
sum_of() { sha256sum < "$1" | cut -d' ' -f1; }

if [ -e "$out" ] && [ "$(sum_of "$out")" = "$WANT" ]; then
    say "ok       credit/german_credit.csv"
    exit 0
fi
if ! command -v Rscript > /dev/null; then
    say "Rscript not found: apt-get install r-base-core r-cran-caret"
    exit 1
fi
if [ ! -r "$RDATA" ]; then
    say "$RDATA not found: apt-get install r-cran-caret"
    exit 1
fi
mkdir -p "$data/credit" || { say "cannot create $data/credit"; exit 1; }
if ! Rscript "$here/tests/ref/metrics_german_credit.R" "$data" > /dev/null; then
    say "export failed (tests/ref/metrics_german_credit.R)"
    exit 1
fi
got=$(sum_of "$out")
if [ "$got" != "$WANT" ]; then
    say "credit/german_credit.csv: SHA-256 $got, expected $WANT"
    exit 1
fi
cat > "$data/credit/LICENSE.txt" <<'TXT'
german_credit.csv: the Statlog (German Credit Data) set of the UCI Machine Learning
Repository (Prof. Dr. Hans Hofmann, Universitaet Hamburg, 1994), 1,000 applicants,
20 attributes, 300 bad credits.  Taken from Debian's r-cran-caret package
(data/GermanCredit.RData; caret by Max Kuhn et al., GPL-2.0 or later, see
/usr/share/doc/r-cran-caret/copyright) and exported by probkit's
tests/ref/metrics_german_credit.R: caret's one-hot columns folded back into one text
column per attribute, plus `female` (Personal.Female.*) and `default` (Class == Bad).
TXT
say "fetched  credit/german_credit.csv (from r-cran-caret)"
exit 0
