#!/bin/bash
# CI test of the Slurm scripts on a one-node cluster started here (see ../shared/reference/
# slurm.md): installs Debian's slurm-wlm and munge with apt if they are missing, starts munged,
# slurmctld and slurmd on this host, evaluates a small synthetic GOT-10k split with SMAT (random
# weights) once unsharded and once as a 2-shard array job with the merge step, and checks that
# the merged results equal the unsharded run: the same box files, byte for byte, and the same AO
# and SR in the reports.
#
#   scripts/slurm/test_slurm.sh KESTREL_BIN [WORK_DIR]
#
# Exit 0 pass, 1 fail, 77 skipped (not root, or slurm cannot be installed): CTest shows it as
# skipped. Every daemon it started is stopped by the pid in its pid file.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
kestrel="${1:?usage: test_slurm.sh KESTREL_BIN [WORK_DIR]}"
kestrel="$(cd "$(dirname "$kestrel")" && pwd)/$(basename "$kestrel")"
work="${2:-$(mktemp -d /tmp/kestrel-slurm-test.XXXXXX)}"
mkdir -p "$work"; work="$(cd "$work" && pwd)"

skip() { echo "SKIP: $*"; exit 77; }
die() { echo "FAIL: $*"; for f in "$work"/slurm/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done; exit 1; }
log() { echo "test_slurm: $*"; }

[ "$(id -u)" = 0 ] || skip "needs root to start munged, slurmctld and slurmd"
[ -x "$kestrel" ] || die "$kestrel is not an executable"

# ---------------------------------------------------------------- install (idempotent)
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
  command -v apt-get >/dev/null || skip "slurm-wlm and munge are not installed and there is no apt-get"
  log "installing slurm-wlm and munge with apt"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q slurm-wlm munge >"$work/apt.log" 2>&1; then
    apt-get update -q >>"$work/apt.log" 2>&1
    apt-get install -y -q slurm-wlm munge >>"$work/apt.log" 2>&1 ||
      skip "apt-get could not install slurm-wlm and munge (see $work/apt.log)"
  fi
fi

# ---------------------------------------------------------------- daemons
cleanup() {
  for pidfile in "$work/slurm/slurmd.pid" "$work/slurm/slurmctld.pid" "$work/slurm/munged.pid"; do
    [ -f "$pidfile" ] || continue
    pid="$(cat "$pidfile")"
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
  done
}
trap cleanup EXIT

mkdir -p "$work/slurm/state" "$work/slurm/spool"
# munge: reuse a running munged (another test or the host's); else start ours with its own pid file.
if ! (munge -n | unmunge) >/dev/null 2>&1; then
  install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
  install -d -o munge -g munge -m 0755 /run/munge
  if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    chown munge:munge /etc/munge/munge.key
    chmod 400 /etc/munge/munge.key
  fi
  munged --force --pid-file="$work/slurm/munged.pid" 2>"$work/slurm/munged.log" ||
    runuser -u munge -- munged --force 2>>"$work/slurm/munged.log" || die "munged did not start"
  for _ in $(seq 50); do (munge -n | unmunge) >/dev/null 2>&1 && break; sleep 0.2; done
  (munge -n | unmunge) >/dev/null 2>&1 || die "munge does not answer"
fi

host="$(hostname -s)"
cpus="$(nproc)"
memory="$(free -m | awk '/^Mem:/ { print int($2 * 0.9) }')"
conf="$work/slurm/slurm.conf"
# Ports of their own, so that a cluster already running on the default ports is left alone.
port=$((17000 + RANDOM % 2000))
cat >"$conf" <<CONF
ClusterName=kestrel-test
SlurmctldHost=${host}
SlurmctldPort=${port}
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
StateSaveLocation=$work/slurm/state
SlurmdSpoolDir=$work/slurm/spool
SlurmctldPidFile=$work/slurm/slurmctld.pid
SlurmdPidFile=$work/slurm/slurmd.pid
SlurmctldLogFile=$work/slurm/slurmctld.log
SlurmdLogFile=$work/slurm/slurmd.log
NodeName=${host} CPUs=${cpus} RealMemory=${memory} State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$conf"
slurmctld -f "$conf" || die "slurmctld did not start"
slurmd -f "$conf" || die "slurmd did not start"
for _ in $(seq 60); do
  sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed)' && break
  sleep 1
done
sinfo -h -o '%T' | grep -qE '^(idle|mixed)' || die "the node did not come up: $(sinfo 2>&1)"
log "one-node cluster up: $(sinfo -h -o '%N %c CPUs %T')"

# ---------------------------------------------------------------- data and model
data="$work/data"
if [ ! -f "$data/val/list.txt" ]; then
  if "$kestrel" synth --help >/dev/null 2>&1; then
    "$kestrel" synth -o "$data" --splits val --val 4 --frames 8 --size 320x180 --seed 7 >/dev/null ||
      die "kestrel synth failed"
  else
    /usr/bin/python3 "$root/tests/tracker/tiny_got10k.py" "$data" --sequences 4 --frames 8 || die "dataset generation failed"
  fi
fi
if [ ! -f "$work/smat/track.engine" ]; then
  /usr/bin/python3 "$root/python/smat/export.py" --seed 0 --out-dir "$work/smat" >/dev/null || die "SMAT export failed"
  "$kestrel" build "$work/smat/smat_template.onnx" -o "$work/smat/template.engine" >/dev/null || die "build failed"
  "$kestrel" build "$work/smat/smat_track.onnx" -o "$work/smat/track.engine" >/dev/null || die "build failed"
fi

# ---------------------------------------------------------------- unsharded reference run
rm -rf "$work/full" "$work/sharded"
"$kestrel" eval --dataset "$data" --split val --template-engine "$work/smat/template.engine" \
  --track-engine "$work/smat/track.engine" -o "$work/full" --name full --quiet || die "unsharded eval failed"

# ---------------------------------------------------------------- 2 shards through Slurm
"$here/submit.sh" --kestrel "$kestrel" --dataset "$data" --split val --template "$work/smat/template.engine" \
  --track "$work/smat/track.engine" --results "$work/sharded" --shards 2 --name sharded --device cpu --wait
status=$?
for f in "$work"/sharded/slurm-*.out; do echo "--- $f"; cat "$f"; done
[ "$status" = 0 ] || die "the merge job ended with status $status"
for k in 0 1; do [ -f "$work/sharded/shard_${k}_of_2.txt" ] || die "shard $k/2 left no manifest"; done

# ---------------------------------------------------------------- compare
n=0
while read -r seq; do
  [ -n "$seq" ] || continue
  cmp -s "$work/full/$seq/${seq}_001.txt" "$work/sharded/$seq/${seq}_001.txt" ||
    die "$seq: the sharded boxes differ from the unsharded run"
  n=$((n + 1))
done <"$data/val/list.txt"
"$kestrel" report "$work/full" --dataset "$data" --split val --json "$work/full.json" >/dev/null || die "report of the unsharded run failed"
/usr/bin/python3 - "$work/full.json" "$work/sharded/report.json" <<'PY' || die "the merged report differs"
import json, sys
a, b = (json.load(open(p))["sets"][0] for p in sys.argv[1:3])
for key in ("ao", "sr50", "sr75", "frames"):
    assert a[key] == b[key], f"{key}: unsharded {a[key]} != merged {b[key]}"
assert [s["name"] for s in a["sequences"]] == [s["name"] for s in b["sequences"]]
print(f"test_slurm: AO {a['ao']:.4f}, SR0.5 {a['sr50']:.4f}, SR0.75 {a['sr75']:.4f} over {a['frames']} frames: equal")
PY
log "PASS: $n sequences, 2 shards merged = unsharded"
