#!/usr/bin/env bash
# CPU peers: ONNX Runtime 1.30 (npm onnxruntime-node, CPU execution provider) and Kestrel's CPU
# backend on the same models, 1 and 2 threads, interleaved in one run, with a table of medians
# and ratios.
#
# usage: bench/peers/cpu_peers.sh [MODEL.onnx ...]
#   With no model, exports the SMAT tracking network (opset 17, seed 0) with our PyTorch code.
# environment:
#   KESTREL_BUILD  build folder with the `kestrel` binary (default: build)
#   THREADS        thread counts to compare (default: "1 2")
#   RUNS           timed inferences per measurement (default: 200)
#   WARMUP         warm-up inferences per measurement (default: 20)
#   ROUNDS         measurements per (model, runtime, threads), interleaved (default: 3)
#   INT8_CACHE     a calibration cache (TensorRT text, from `kestrel quantize --calib-cache`): also
#                  builds INT8 engines from it and times them in the same rounds (rows "... int8",
#                  against the same ONNX Runtime FP32 figures)
#
# ONNX Runtime is installed once into $KESTREL_BUILD/peers/ort with
# `npm install --ignore-scripts onnxruntime-node@1.30` (the package ships its prebuilt linux-x64
# binary; the install script only downloads GPU extras). Kestrel builds one engine per thread
# count (`kestrel build --threads N`, which times candidate kernels with N threads and records N
# as the engine's default) and times it with `kestrel bench --device cpu --threads N`; where the
# build has no `bench` subcommand, with bench/cpu_latency.cpp (`kestrel_cpu_latency`).
# Each figure is the median over rounds of each round's median latency. The machine's load is
# printed before and after: on a shared machine, compare only figures from one run.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${KESTREL_BUILD:-$REPO/build}"
case "$BUILD" in /*) ;; *) BUILD="$REPO/$BUILD" ;; esac
THREADS="${THREADS:-1 2}"
RUNS="${RUNS:-200}"
WARMUP="${WARMUP:-20}"
ROUNDS="${ROUNDS:-3}"
KESTREL="$BUILD/kestrel"
PEERS="$BUILD/peers"
ORT_DIR="$PEERS/ort"

die() { echo "cpu_peers: $*" >&2; exit 1; }

[ -x "$KESTREL" ] || die "no kestrel binary at $KESTREL (build first, or set KESTREL_BUILD)"
command -v node >/dev/null || die "node is not installed (apt-get install nodejs npm)"
command -v npm >/dev/null || die "npm is not installed (apt-get install npm)"

# ---------------------------------------------------------------- ONNX Runtime
if [ ! -d "$ORT_DIR/node_modules/onnxruntime-node" ]; then
  echo "installing onnxruntime-node@1.30 into $ORT_DIR"
  mkdir -p "$ORT_DIR"
  [ -f "$ORT_DIR/package.json" ] || echo '{"name": "kestrel-cpu-peers", "private": true}' >"$ORT_DIR/package.json"
  (cd "$ORT_DIR" && npm install --ignore-scripts --no-audit --no-fund onnxruntime-node@1.30 >/dev/null)
fi
export NODE_PATH="$ORT_DIR/node_modules"
ORT_VERSION="$(node -e "console.log(require('onnxruntime-node/package.json').version)")"
# The native binding must load (the --ignore-scripts install relies on the shipped prebuilt).
node -e "require('onnxruntime-node')" 2>/dev/null ||
  die "onnxruntime-node $ORT_VERSION is installed but its native binary does not load: $(node -e "require('onnxruntime-node')" 2>&1 | head -3)"

# ---------------------------------------------------------------- models
MODELS=("$@")
if [ ${#MODELS[@]} -eq 0 ]; then
  SMAT_DIR="$PEERS/smat"
  if [ ! -f "$SMAT_DIR/smat_track.onnx" ]; then
    echo "exporting SMAT (opset 17) into $SMAT_DIR"
    /usr/bin/python3 "$REPO/python/smat/export.py" --seed 0 --opset 17 --out-dir "$SMAT_DIR" >/dev/null
  fi
  MODELS=("$SMAT_DIR/smat_track.onnx")
fi

# ---------------------------------------------------------------- timing
HAVE_BENCH=0
"$KESTREL" bench --help >/dev/null 2>&1 && HAVE_BENCH=1
LATENCY_TOOL="$BUILD/kestrel_cpu_latency"
[ $HAVE_BENCH -eq 1 ] || [ -x "$LATENCY_TOOL" ] || die "neither 'kestrel bench' nor $LATENCY_TOOL is available"

# Prints the median latency (ms) of one Kestrel measurement.
kestrel_median() {
  local engine="$1" threads="$2"
  if [ $HAVE_BENCH -eq 1 ]; then
    "$KESTREL" bench "$engine" --device cpu --threads "$threads" --iterations "$RUNS" --warmup-ms 200 |
      sed -n 's/^latency .* median \([0-9.]*\) ms.*/\1/p'
  else
    "$LATENCY_TOOL" "$engine" --threads "$threads" --runs "$RUNS" --warmup "$WARMUP" |
      sed -n 's/.*median_ms=\([0-9.]*\).*/\1/p'
  fi
}

ort_median() {
  node "$REPO/bench/peers/ort_latency.js" "$1" "$2" "$RUNS" "$WARMUP" | sed -n 's/.*median_ms=\([0-9.]*\).*/\1/p'
}

# A model's label: its folder and name, so that models called alike (an exported and a trained
# smat_track.onnx) keep separate figures.
label_of() { echo "$(basename "$(dirname "$1")")/$(basename "$1" .onnx)"; }

median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "nan"; else print a[int((NR + 1) / 2)]}'; }

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "onnxruntime-node $ORT_VERSION; kestrel $("$KESTREL" --version 2>/dev/null | head -1); $ROUNDS rounds x $RUNS runs"

if [ -n "${INT8_CACHE:-}" ]; then
  [ -f "$INT8_CACHE" ] || die "INT8_CACHE=$INT8_CACHE: no such file"
  echo "INT8 engines from the calibration cache $INT8_CACHE"
fi

declare -A ORT KES KES8
for model in "${MODELS[@]}"; do
  [ -f "$model" ] || die "no model $model"
  name="$(label_of "$model")"
  for t in $THREADS; do
    "$KESTREL" build "$model" -o "$PEERS/${name//\//_}.t$t.engine" --device cpu --threads "$t" >/dev/null
    if [ -n "${INT8_CACHE:-}" ]; then
      "$KESTREL" build "$model" -o "$PEERS/${name//\//_}.t$t.int8.engine" --device cpu --threads "$t" --int8 \
        --calib-cache "$INT8_CACHE" >/dev/null
    fi
  done
  for round in $(seq "$ROUNDS"); do
    for t in $THREADS; do
      ORT["$name/$t"]+="$(ort_median "$model" "$t") "
      KES["$name/$t"]+="$(kestrel_median "$PEERS/${name//\//_}.t$t.engine" "$t") "
      [ -z "${INT8_CACHE:-}" ] || KES8["$name/$t"]+="$(kestrel_median "$PEERS/${name//\//_}.t$t.int8.engine" "$t") "
    done
  done
done
echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)"
echo
printf '%-30s %7s %12s %12s %22s   %s\n' model threads onnxruntime kestrel "kestrel/onnxruntime" "per round (ort | kestrel)"
for model in "${MODELS[@]}"; do
  name="$(label_of "$model")"
  for t in $THREADS; do
    o="$(echo ${ORT["$name/$t"]} | tr ' ' '\n' | median)"
    k="$(echo ${KES["$name/$t"]} | tr ' ' '\n' | median)"
    ratio="$(awk -v k="$k" -v o="$o" 'BEGIN {if (o > 0) printf "%.2f (%.2fx faster)", k / o, o / k; else print "n/a"}')"
    printf '%-30s %7s %9s ms %9s ms %22s   %s| %s\n' "$name" "$t" "$o" "$k" "$ratio" "${ORT["$name/$t"]}" "${KES["$name/$t"]}"
    [ -n "${INT8_CACHE:-}" ] || continue
    k="$(echo ${KES8["$name/$t"]} | tr ' ' '\n' | median)"
    ratio="$(awk -v k="$k" -v o="$o" 'BEGIN {if (o > 0) printf "%.2f (%.2fx faster)", k / o, o / k; else print "n/a"}')"
    printf '%-30s %7s %9s ms %9s ms %22s   %s| %s\n' "$name int8" "$t" "$o" "$k" "$ratio" "${ORT["$name/$t"]}" "${KES8["$name/$t"]}"
  done
done
echo "(latency medians in ms, batch 1: the median over rounds of each round's median)"
