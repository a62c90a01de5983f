#!/bin/bash
# Build one libFuzzer target with clang and run it for a while.
#   fuzz/run.sh TARGET [SECONDS] [extra libFuzzer flags...]
# TARGET is idx, npy, safetensors, png or csv.  New inputs go to
# fuzz/out/corpus-TARGET (not committed); crashers to fuzz/out/.
set -euo pipefail
cd "$(dirname "$0")/.."
t=${1:?usage: fuzz/run.sh TARGET [SECONDS]}
secs=${2:-120}
shift $(( $# >= 2 ? 2 : 1 ))
out=fuzz/out
mkdir -p "$out/corpus-$t"
CC=${CC:-clang}
flags="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
flags="$flags -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc/core"
# only what the parsers need: status/errors, file helpers and the io_* sources
$CC $flags -o "$out/fuzz_$t" "fuzz/fuzz_$t.c" src/core/status.c src/core/file.c src/core/io_*.c \
    $(pkg-config --cflags --libs libpng jansson zlib) -lm
echo "fuzz_$t: running ${secs}s (seeds: fuzz/corpus/$t)"
exec nice -n 10 "$out/fuzz_$t" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$out/crash-$t-" "$@" "$out/corpus-$t" "fuzz/corpus/$t"
