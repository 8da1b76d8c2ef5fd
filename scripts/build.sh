#!/usr/bin/env bash
# Configures and builds Kestrel into build/ (Release). Extra arguments go to the build tool,
# e.g. `scripts/build.sh kestrel_cli` builds only the command line.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -- "$@"
