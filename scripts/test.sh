#!/usr/bin/env bash
# Sets up, builds and runs every test. GPU tests skip, with their reason, where there is no GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
cd build
ctest --output-on-failure -j "$(nproc)"
ctest -R onnx_conformance_summary -V | grep -E "ONNX conformance|skipped" || true
