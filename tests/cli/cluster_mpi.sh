#!/bin/bash
# `probkit cluster --mpi` under `mpirun -np 2|3` equals the single-process run (K-means, GMM).
# Skips (exit 0) when probkit was built without -DPK_MPI=ON or mpirun is missing.
set -u
P="$1"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
awk 'BEGIN { print "a,b,cls"; for (i = 0; i < 300; i++) { c = i % 3;
      printf "%.6f,%.6f,%d\n", 3*c + 2*sin(i*1.7), (c == 2 ? 3 : 0) + 1.5*cos(i*2.3), c } }' > "$T/blobs.csv"
"$P" cluster --k 3 --mpi --label cls "$T/blobs.csv" > /dev/null 2> "$T/err"; rc=$?
if [ $rc = 2 ] && grep -q "without MPI" "$T/err"; then echo "cluster_mpi: skipped (built without MPI)"; exit 0; fi
command -v mpirun > /dev/null || { echo "cluster_mpi: skipped (no mpirun)"; exit 0; }
MPI="mpirun -np"
[ "$(id -u)" = 0 ] && MPI="mpirun --allow-run-as-root --oversubscribe -np"
# inertia / log-likelihood printed with %.17g: compare to 1e-9 relative; labels exactly
num() { sed 's/.*"'"$1"'": \([-0-9.e+]*\).*/\1/'; }
labs() { sed 's/.*"labels": \[//; s/\].*//'; }
for m in kmeans gmm; do
  key=inertia; [ $m = gmm ] && key=mean_loglik
  one=$("$P" cluster --k 3 --method $m --label cls --json "$T/blobs.csv") || fail "$m single"
  for np in 2 3; do
    many=$($MPI $np "$P" cluster --k 3 --method $m --label cls --mpi --json "$T/blobs.csv") || fail "$m mpirun -np $np"
    [ "$(echo "$one" | labs)" = "$(echo "$many" | labs)" ] || fail "$m -np $np: labels differ"
    a=$(echo "$one" | num $key); b=$(echo "$many" | num $key)
    awk -v a="$a" -v b="$b" 'BEGIN { d = a - b; if (d < 0) d = -d; s = a < 0 ? -a : a; exit !(d <= 1e-9 * s) }' \
      || fail "$m -np $np: $key $a vs $b"
  done
done
"$P" cluster --k 3 --method sdp --mpi "$T/blobs.csv" > /dev/null 2>&1; [ $? = 2 ] || fail "--mpi with sdp should be a usage error"
echo "cluster_mpi: all checks passed"
