#!/bin/bash
# Build one libFuzzer target with clang and run it for a while.
#   fuzz/run.sh TARGET [SECONDS] [extra libFuzzer flags...]
# TARGET names fuzz/fuzz_TARGET.c: idx, npy, safetensors, png, csv (the core
# readers), or <module>_<name> (e.g. seq_pfa), which is built with src/core
# and src/<module> plus the modules in src/<module>/DEPS.
# New inputs go to fuzz/out/corpus-TARGET (not committed); crashers to fuzz/out/.
set -euo pipefail
cd "$(dirname "$0")/.."
t=${1:?usage: fuzz/run.sh TARGET [SECONDS]}
secs=${2:-120}
shift $(( $# >= 2 ? 2 : 1 ))
[ -f "fuzz/fuzz_$t.c" ] || { echo "fuzz/run.sh: no fuzz/fuzz_$t.c" >&2; exit 2; }
out=fuzz/out
mkdir -p "$out/corpus-$t" "fuzz/corpus/$t"
CC=${CC:-clang}
flags="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
flags="$flags -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc -Isrc/core"
libs="$(pkg-config --cflags --libs libpng jansson zlib) -lm"
case $t in
idx | npy | safetensors | png | csv)
    # only what the parsers need: status/errors, file helpers and the io_* sources
    srcs="src/core/status.c src/core/file.c src/core/io_*.c" ;;
*)
    m=${t%%_*}
    [ -d "src/$m" ] || { echo "fuzz/run.sh: no module src/$m for target $t" >&2; exit 2; }
    mods="$m"
    [ -f "src/$m/DEPS" ] && mods="$mods $(cat "src/$m/DEPS")"
    srcs="src/core/*.c"
    for d in $mods; do srcs="$srcs src/$d/*.c"; flags="$flags -Isrc/$d"; done
    cblas=/usr/include/x86_64-linux-gnu/openblas-pthread
    [ -d $cblas ] && flags="$flags -I$cblas"
    libs="$libs $(pkg-config --cflags --libs gsl) -llapacke -lopenblas" ;;
esac
# shellcheck disable=SC2086
$CC $flags -o "$out/fuzz_$t" "fuzz/fuzz_$t.c" $srcs $libs
echo "fuzz_$t: running ${secs}s (seeds: fuzz/corpus/$t)"
exec nice -n 10 "$out/fuzz_$t" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$out/crash-$t-" "$@" "$out/corpus-$t" "fuzz/corpus/$t"
