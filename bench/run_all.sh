#!/bin/bash
# Run every benchmark in bench/: each *.sh (but this file) and each *.py (but
# harness.py), with Debian's /usr/bin/python3 (numpy/scipy/sklearn peers).
# A benchmark whose peer or program is missing exits 77 and is reported as
# skipped.  Results land in bench/results/<name>.json.
#   PK_BUILD_DIR  build directory holding bench_* programs (default: build)
#   BENCH_FILTER  only run benchmarks whose file name contains this string
set -u
cd "$(dirname "$0")/.." || exit 1
export PK_BUILD_DIR="${PK_BUILD_DIR:-${BUILD:-build}}"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
ok=0; failed=0; skipped=0
for f in bench/*.sh bench/*.py; do
  [ -e "$f" ] || continue
  base=$(basename "$f")
  case "$base" in run_all.sh|harness.py) continue ;; esac
  case "$base" in *"${BENCH_FILTER:-}"*) ;; *) continue ;; esac
  echo "== $base"
  case "$f" in
    *.sh) bash "$f"; rc=$? ;;
    *.py) "$PY" "$f"; rc=$? ;;
  esac
  if [ $rc -eq 0 ]; then ok=$((ok+1))
  elif [ $rc -eq 77 ]; then echo "   skipped: $base (peer or program missing, see message above)"; skipped=$((skipped+1))
  else echo "   FAILED: $base (exit $rc)"; failed=$((failed+1)); fi
done
echo "benchmarks: $ok ok, $skipped skipped, $failed failed"
[ $failed -eq 0 ]
