#!/usr/bin/env bash
# The main job: SMAT with the weights in models/smat_synthetic (trained on our synthetic data, see
# docs/training.md) through Kestrel end to end:
#   1. build the template and tracking engines (FP32 on the CPU; FP16 on the GPU where there is one)
#      and check the tracking engine against PyTorch's outputs (reference.npz);
#   2. generate a few synthetic GOT-10k-format sequences (`kestrel synth`);
#   3. track the first one with a visualization of every frame;
#   4. evaluate the sequences and print AO / SR0.5 / SR0.75 / fps (`kestrel eval`, `kestrel report`).
# Everything goes to build/demo. DEMO_SEQUENCES (default 5) sets how many sequences are evaluated.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh kestrel_cli

kestrel=build/kestrel
models=models/smat_synthetic
out=build/demo
sequences=${DEMO_SEQUENCES:-5}
mkdir -p "$out"

devices=(cpu)
if "$kestrel" build "$models/smat_template.onnx" -o "$out/probe.engine" --device cuda >/dev/null 2>&1; then
  devices+=(cuda)
else
  echo "== no usable GPU here: CPU engines only"
fi
rm -f "$out/probe.engine"

for device in "${devices[@]}"; do
  precision=(); tolerance=1e-4
  if [[ $device == cuda ]]; then precision=(--fp16); tolerance=3e-2; fi
  for network in smat_template smat_track; do
    echo "== building $network for $device ${precision[*]}"
    "$kestrel" build "$models/$network.onnx" -o "$out/${network}_$device.engine" --device "$device" "${precision[@]}"
  done
  echo "== $device tracking engine vs PyTorch"
  "$kestrel" run "$out/smat_track_$device.engine" --inputs "$models/reference.npz" \
    --compare "$models/reference.npz" --atol "$tolerance"
done

echo "== generating $sequences synthetic sequences (seed 7) in $out/data"
"$kestrel" synth -o "$out/data" --seed 7 --splits val --val "$sequences"
first=$(head -n 1 "$out/data/val/list.txt")
init=$(head -n 1 "$out/data/val/$first/groundtruth.txt")

echo "== tracking $first from $init; frames with boxes in $out/visualization"
"$kestrel" track --template-engine "$out/smat_template_cpu.engine" --track-engine "$out/smat_track_cpu.engine" \
  --images "$out/data/val/$first" --init "$init" -o "$out/$first.txt" --visualize "$out/visualization"

results=()
for device in "${devices[@]}"; do
  echo "== evaluating $sequences sequences on $device"
  "$kestrel" eval --dataset "$out/data" --split val --template-engine "$out/smat_template_$device.engine" \
    --track-engine "$out/smat_track_$device.engine" -o "$out/results_$device"
  results+=("$out/results_$device")
done
"$kestrel" report "${results[@]}" --dataset "$out/data" --json "$out/report.json"
echo "== engines, boxes, visualization, results and report are in $out"
