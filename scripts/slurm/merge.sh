#!/bin/bash
# Merges the shards of a Kestrel evaluation: `kestrel report` over the results folder, with the
# Markdown table in RESULTS/report.md and every number in RESULTS/report.json; for the test split
# also RESULTS.zip for the GOT-10k server; with KESTREL_PLOT=1 the plots in RESULTS/report.png.
# Exit status: report's (0 complete, 1 shards or sequences missing, 2 unusable input).
#
# Environment: KESTREL_BIN, KESTREL_DATASET, KESTREL_SPLIT, KESTREL_RESULTS (as for submit.sh).
set -uo pipefail
: "${KESTREL_BIN:?}" "${KESTREL_DATASET:?}" "${KESTREL_SPLIT:?}" "${KESTREL_RESULTS:?}"

args=("${KESTREL_RESULTS}" --dataset "${KESTREL_DATASET}" --split "${KESTREL_SPLIT}"
      --json "${KESTREL_RESULTS}/report.json")
[ "${KESTREL_PLOT:-0}" = 1 ] && args+=(--plot "${KESTREL_RESULTS}/report.png")
[ "${KESTREL_SPLIT}" = test ] && args+=(--zip "${KESTREL_RESULTS%/}.zip")

"${KESTREL_BIN}" report "${args[@]}" > "${KESTREL_RESULTS}/report.md.tmp"
status=$?
mv "${KESTREL_RESULTS}/report.md.tmp" "${KESTREL_RESULTS}/report.md"
cat "${KESTREL_RESULTS}/report.md"
echo "kestrel-merge: report exit status ${status}"
exit "${status}"
