#!/usr/bin/env bash
# Trains SMAT on synthetic GOT-10k-format data (from scratch, or on from INIT_CHECKPOINT) and
# exports it:
#   1. `kestrel synth` writes a training split and the fixed validation split (all cores);
#   2. python/smat/train.py trains for MINUTES (default 6.5) of training loop, scores the
#      validation split with the tracking loop in PyTorch and exports the two ONNX networks;
#   3. with EXTRA_VAL_SEEDS, the checkpoint is also scored on the val splits of those seeds.
# Leaves OUTDIR/checkpoint.pth.tar, OUTDIR/resume.pth, OUTDIR/smat_template.onnx,
# OUTDIR/smat_track.onnx, OUTDIR/reference.npz, OUTDIR/train_log.json and, per extra seed,
# OUTDIR/val_seedN.log (see docs/training.md).
#
# usage: scripts/train_synthetic.sh KESTREL_BIN OUTDIR [MINUTES]
# environment:
#   PYTHON          interpreter with torch (default python3)
#   SYNTH_DIR       where the datasets go (default: a temporary folder, removed at the end);
#                   keep it outside OUTDIR, which only holds the results
#   TRAIN_SEQUENCES, TRAIN_FRAMES, TRAIN_SIZE, TRAIN_SEED   training split (400, 100, 640x360, 101)
#   VAL_SEQUENCES   validation sequences scored at the end (50; 0 skips the evaluation)
#   VAL_FRAMES, VAL_SIZE   their length and size (150, 1280x720: the fixed evaluation set)
#   EXTRA_VAL_SEEDS more val splits to score the final checkpoint on, e.g. "2 3" (default none)
#   INIT_CHECKPOINT start from these weights (fine-tuning: fresh optimizer, lr 4e-4, warm-up
#                   100 unless TRAIN_ARGS say otherwise), e.g. models/smat_synthetic/checkpoint.pth.tar
#   RESUME=1        continue the run in OUTDIR from its resume.pth (data are regenerated
#                   identically from the seeds)
#   TRAIN_ARGS      more train.py options, e.g. "--compile" or "--batch 64 --lr 8e-4"; the
#                   look-alike options (--paste-prob etc.) default to on
set -euo pipefail

if [[ $# -lt 2 || $# -gt 3 ]]; then
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2
  exit 2
fi
kestrel=$(realpath "$1")
out=$2
init_args=()
if [[ -n ${INIT_CHECKPOINT:-} ]]; then
  [[ -f $INIT_CHECKPOINT ]] || { echo "error: INIT_CHECKPOINT=$INIT_CHECKPOINT: no such file" >&2; exit 2; }
  init_args=(--init-checkpoint "$(realpath "$INIT_CHECKPOINT")")
fi
minutes=${3:-6.5}
python=${PYTHON:-python3}
repo=$(cd "$(dirname "$0")/.." && pwd)

# The training split is rendered at 640x360: the generator sizes objects, speeds and textures
# relative to the frame (1280x720 is its reference), so the content is the same as at 720p at
# a quarter of the pixels, and 40,000 frames fit in 28 GiB of GPU memory as decoded uint8
# (train.py keeps every frame on the GPU). Crops are resized to 128/256 anyway.
train_sequences=${TRAIN_SEQUENCES:-400}
train_frames=${TRAIN_FRAMES:-100}
train_size=${TRAIN_SIZE:-640x360}
train_seed=${TRAIN_SEED:-101}
# The validation split is the project's fixed evaluation set: seed 1, default size and length
# (1280x720, 150 frames), so the score printed here is comparable with `kestrel eval` on it.
val_sequences=${VAL_SEQUENCES:-50}
val_frames=${VAL_FRAMES:-150}
val_size=${VAL_SIZE:-1280x720}
extra_val_seeds=${EXTRA_VAL_SEEDS:-}

if [[ -n ${SYNTH_DIR:-} ]]; then
  data=$SYNTH_DIR
  mkdir -p "$data"
else
  data=$(mktemp -d "${TMPDIR:-/tmp}/kestrel_train_data.XXXXXX")
  trap 'rm -rf "$data"' EXIT
fi
mkdir -p "$out"
log=$out/train_synthetic.log
[[ ${RESUME:-0} == 1 ]] || : >"$log"
say() { echo "== $*" | tee -a "$log"; }
elapsed() { echo $((SECONDS - $1)); }

t=$SECONDS
say "synth: train split, $train_sequences x $train_frames frames at $train_size (seed $train_seed) in $data"
"$kestrel" synth -o "$data/train_set" --seed "$train_seed" --splits train --train "$train_sequences" \
  --frames "$train_frames" --size "$train_size" --threads 0 2>&1 | tee -a "$log"
val_args=()
if [[ $val_sequences -gt 0 ]]; then
  say "synth: val split, $val_sequences x $val_frames frames at $val_size (seed 1)"
  "$kestrel" synth -o "$data/val_set" --seed 1 --splits val --val "$val_sequences" \
    --frames "$val_frames" --size "$val_size" --threads 0 2>&1 | tee -a "$log"
  val_args=(--val-split "$data/val_set/val")
fi
say "synth took $(elapsed "$t") s"

resume_args=()
if [[ ${RESUME:-0} == 1 ]]; then
  resume_args=(--resume)
fi
t=$SECONDS
say "train: $minutes minutes with $python"
# shellcheck disable=SC2086  # TRAIN_ARGS is a list of options
"$python" "$repo/python/smat/train.py" --train-split "$data/train_set/train" "${val_args[@]}" \
  --out-dir "$out" --minutes "$minutes" "${init_args[@]}" "${resume_args[@]}" ${TRAIN_ARGS:-} 2>&1 | tee -a "$log"
say "train.py (load, train, eval, export) took $(elapsed "$t") s; results in $out"

for seed in $extra_val_seeds; do
  t=$SECONDS
  say "val seed $seed: $val_sequences x $val_frames frames at $val_size"
  "$kestrel" synth -o "$data/val_seed$seed" --seed "$seed" --splits val --val "$val_sequences" \
    --frames "$val_frames" --size "$val_size" --threads 0 2>&1 | tee -a "$log"
  "$python" "$repo/python/smat/track_eval.py" --checkpoint "$out/checkpoint.pth.tar" \
    --split "$data/val_seed$seed/val" 2>&1 | tee "$out/val_seed$seed.log" | tee -a "$log"
  rm -rf "$data/val_seed$seed"
  say "val seed $seed took $(elapsed "$t") s"
done
