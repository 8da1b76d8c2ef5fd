#!/usr/bin/env bash
# The main job: export the SMAT template encoder and tracking network (seeded weights), build
# their engines, run them on the sample inputs, compare with PyTorch and print the timings.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh kestrel_cli

out=build/demo
mkdir -p "$out"
echo "== exporting SMAT (ONNX opset 17) to $out"
/usr/bin/python3 python/smat/export.py --seed 0 --opset 17 --out-dir "$out"

for network in smat_template smat_track; do
  echo "== $network"
  build/kestrel build "$out/$network.onnx" -o "$out/$network.engine"
  build/kestrel run "$out/$network.engine" --inputs "$out/reference.npz" --compare "$out/reference.npz" \
    --save-outputs "$out/${network}_outputs.npz"
done
echo "== engines, outputs and reference data are in $out"
