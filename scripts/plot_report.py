#!/usr/bin/python3
"""Plots a `kestrel report` JSON: success curves (GOT-10k style) and a speed bar chart.

    /usr/bin/python3 scripts/plot_report.py REPORT.json OUT.png

`kestrel report --plot OUT.png` calls this with the report it computed. Needs matplotlib
(Debian's python3-matplotlib); writes OUT.png atomically (temporary file, then rename).
"""
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")  # no display: files only
import matplotlib.pyplot as plt  # noqa: E402


def _label(result_set):
    ao = result_set.get("ao")
    return result_set["name"] if ao is None else f"{result_set['name']} [AO {100 * ao:.1f}]"


def plot(report, out_path):
    sets = report["sets"]
    fig, (curves, speeds) = plt.subplots(1, 2, figsize=(12, 4.8), gridspec_kw={"width_ratios": [3, 2]})

    thresholds = [i / 100 for i in range(101)]
    drawn = 0
    # Best AO first in the legend, as in GOT-10k's plots.
    for s in sorted(sets, key=lambda s: -(s.get("ao") or 0.0)):
        curve = s.get("success_curve") or []
        if not curve or any(v is None for v in curve):
            continue
        curves.plot(thresholds, curve, linewidth=2, label=_label(s))
        drawn += 1
    curves.set_title(f"Success plots on GOT-10k {report.get('split', '')}")
    curves.set_xlabel("Overlap threshold")
    curves.set_ylabel("Success rate")
    curves.set_xlim(0, 1)
    curves.set_ylim(0, 1.01)
    curves.grid(True, alpha=0.3)
    if drawn:
        curves.legend(loc="lower left", fontsize=8)
    else:
        curves.text(0.5, 0.5, "no ground truth\n(test split: scored by the server)", ha="center", va="center")

    names = [s["name"] for s in sets]
    fps = [max(s.get("fps") or 0.0, 0.0) for s in sets]
    bars = speeds.bar(range(len(sets)), fps, color="tab:blue")
    speeds.set_xticks(range(len(sets)))
    speeds.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
    speeds.set_ylabel("frames per second (mean of 1/t)")
    speeds.set_title("Tracking speed")
    for bar, value in zip(bars, fps):
        speeds.annotate(f"{value:.1f}", (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center",
                        va="bottom", fontsize=8)
    speeds.grid(True, axis="y", alpha=0.3)

    fig.tight_layout()
    tmp = f"{out_path}.tmp{os.getpid()}.png"
    try:
        fig.savefig(tmp, dpi=120)
        os.replace(tmp, out_path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    plt.close(fig)


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    try:
        with open(argv[1]) as f:
            report = json.load(f)
    except (OSError, ValueError) as exc:
        print(f"plot_report: {argv[1]}: {exc}", file=sys.stderr)
        return 2
    plot(report, argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
