#!/bin/bash
# Submits a sharded Kestrel GOT-10k evaluation to Slurm: an array job with one shard per task
# (one GPU per task where the partition has GPUs) and a merge job that runs once all shards
# have ended.
#
#   scripts/slurm/submit.sh --kestrel BIN --dataset ROOT --split val --template T --track E \
#       --results DIR --shards N [--name NAME] [--device auto|cpu|cuda] [--partition P]
#       [--cpus-per-task C] [--plot] [--wait] [-- extra kestrel eval options]
#
# The results folder must be on a file system every node sees. Prints the two job ids; with
# --wait it blocks until the merge job ends and exits with its status.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() { sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
kestrel="" dataset="" split=val template="" track="" results="" shards="" name="" device=auto
partition="" cpus="" plot=0 wait=0 extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --kestrel) kestrel="$2"; shift 2 ;;
    --dataset) dataset="$2"; shift 2 ;;
    --split) split="$2"; shift 2 ;;
    --template) template="$2"; shift 2 ;;
    --track) track="$2"; shift 2 ;;
    --results) results="$2"; shift 2 ;;
    --shards) shards="$2"; shift 2 ;;
    --name) name="$2"; shift 2 ;;
    --device) device="$2"; shift 2 ;;
    --partition) partition="$2"; shift 2 ;;
    --cpus-per-task) cpus="$2"; shift 2 ;;
    --plot) plot=1; shift ;;
    --wait) wait=1; shift ;;
    --) shift; extra=("$@"); break ;;
    *) echo "submit.sh: unknown option $1" >&2; usage ;;
  esac
done
for v in kestrel dataset template track results shards; do
  [ -n "${!v}" ] || { echo "submit.sh: --${v} is required" >&2; usage; }
done
[[ "$shards" =~ ^[1-9][0-9]*$ ]] || { echo "submit.sh: --shards must be a positive integer" >&2; exit 2; }
abspath() { (cd "$(dirname "$1")" && echo "$(pwd)/$(basename "$1")"); }
mkdir -p "$results"
kestrel="$(abspath "$kestrel")"; dataset="$(abspath "$dataset")"; results="$(abspath "$results")"
template="$(abspath "$template")"; track="$(abspath "$track")"
[ -n "$name" ] || name="$(basename "$results")"

common=()
[ -n "$partition" ] && common+=(--partition "$partition")
# One GPU per task where the partition offers GPUs (a gres of type gpu), else CPUs only.
gpus=0
if sinfo -h -o '%G' ${partition:+-p "$partition"} 2>/dev/null | grep -q 'gpu'; then gpus=1; fi
if [ "$device" = auto ]; then device=$([ "$gpus" = 1 ] && echo cuda || echo cpu); fi
array_opts=(--array="0-$((shards - 1))" --output="${results}/slurm-%A_%a.out")
[ "$device" = cuda ] && array_opts+=(--gres=gpu:1)
[ -n "$cpus" ] && array_opts+=(--cpus-per-task="$cpus")

export KESTREL_BIN="$kestrel" KESTREL_DATASET="$dataset" KESTREL_SPLIT="$split" KESTREL_TEMPLATE="$template"
export KESTREL_TRACK="$track" KESTREL_RESULTS="$results" KESTREL_SHARDS="$shards" KESTREL_NAME="$name"
export KESTREL_DEVICE="$device" KESTREL_EVAL_ARGS="${extra[*]:-}" KESTREL_SLURM_DIR="$here" KESTREL_PLOT="$plot"

array_job=$(sbatch --parsable --export=ALL "${common[@]}" "${array_opts[@]}" "$here/eval_array.sbatch")
array_job="${array_job%%;*}"
merge_opts=(--parsable --export=ALL --dependency="afterany:${array_job}" --output="${results}/slurm-merge-%j.out")
[ "$wait" = 1 ] && merge_opts+=(--wait)
echo "kestrel: submitted ${shards} shard(s) as array job ${array_job} (device ${device})"
set +e
merge_job=$(sbatch "${merge_opts[@]}" "${common[@]}" "$here/merge.sbatch")
status=$?
set -e
echo "kestrel: merge job ${merge_job%%;*} runs after it; results in ${results}"
exit "$status"
