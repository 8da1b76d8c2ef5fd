#!/usr/bin/env python3
"""Smoke test of python/smat/train.py on the CPU: a tiny synthetic split, 2 training steps,
a resumed run to step 3 with the tracking-loop evaluation and the ONNX export, then checks
that the checkpoint is an official-layout state dict that loads strictly.

    /usr/bin/python3 tests/smat/test_train_smoke.py KESTREL_BIN [WORK_DIR]

Also checks the pieces the GPU run relies on but cannot show on its own: the batched crop
against the official crop (tests/tracker/reference_loop.py's sample_target), the heat map's
centre, and that a step's batch depends only on the seed and the step (what makes resuming
exact). About a minute on one CPU core.
"""
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, os.path.join(ROOT, "tests", "tracker"))

from reference_loop import sample_target  # noqa: E402
from smat.check_layout import read_layout  # noqa: E402
from smat.checkpoint import load_checkpoint  # noqa: E402
from smat.crops import crop_batch, crop_windows  # noqa: E402
from smat.got10k_split import read_split  # noqa: E402
from smat.model import build_smat  # noqa: E402
from smat.train_loss import centre_heatmap  # noqa: E402
from smat.train_pairs import PairSampler, PairSettings  # noqa: E402

TRAIN = os.path.join(ROOT, "python", "smat", "train.py")
failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        failures.append(what)
    return condition


def run(args):
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if p.returncode != 0:
        print(f"--- exit {p.returncode}: {' '.join(map(str, args))}\n{p.stdout}\n{p.stderr}")
    check(p.returncode == 0, f"{os.path.basename(str(args[1]))} {' '.join(map(str, args[2:4]))}: exit 0")
    return p


def check_crops():
    rng = np.random.default_rng(1)
    frames = rng.integers(0, 256, size=(2, 45, 80, 3), dtype=np.uint8)
    worst = 0.0
    for trial in range(40):
        w, h = rng.uniform(2, 40), rng.uniform(2, 30)
        box = [rng.uniform(-w / 2, 80 - w / 2), rng.uniform(-h / 2, 45 - h / 2), w, h]
        factor, size = (2.0, 128) if trial % 2 else (4.0, 256)
        ref, _ = sample_target(frames[trial % 2], box, factor, size)
        x1, y1, side, _ = crop_windows(np.array([box]), factor, size)
        got = crop_batch(torch.from_numpy(frames), torch.tensor([trial % 2]), torch.from_numpy(x1),
                         torch.from_numpy(y1), torch.from_numpy(side), size)
        worst = max(worst, float(np.abs(got[0].permute(1, 2, 0).numpy() * 255 - ref).max()))
    check(worst < 1e-3, f"batched crop equals the official crop (max difference {worst:.1e} of 255)")


def check_heatmap():
    heat, cx, cy = centre_heatmap(torch.tensor([[0.3, 0.4, 0.25, 0.2]]), 16)
    ok = heat[0, 0, cy[0], cx[0]].item() == 1.0 and (heat == 1).sum().item() == 1
    check(ok and (cx.item(), cy.item()) == (7, 8), "heat map: one cell of 1 at the rounded centre")


def check_sampler(split):
    seqs = read_split(split)
    a = PairSampler(seqs, PairSettings(), seed=5, steps_per_chunk=4).chunk(3, 2)
    b = PairSampler(seqs, PairSettings(), seed=5, steps_per_chunk=4).chunk(3, 2)
    same = all(np.array_equal(a[k], b[k]) for k in a)
    gt_ok = bool(np.all((a["gt"][:, 2:] > 0) & (a["gt"][:, :2] > -0.5) & (a["gt"][:, :2] < 1.0)))
    check(same and gt_ok, "pair sampling is a function of (seed, chunk); targets lie in the search crops")


def main(kestrel, work):
    data, out = os.path.join(work, "data"), os.path.join(work, "out")
    run([kestrel, "synth", "-o", data, "--seed", "3", "--train", "3", "--val", "1", "--test", "0",
         "--calib", "0", "--frames", "8", "--size", "320x180"])
    check_crops()
    check_heatmap()
    check_sampler(os.path.join(data, "train"))

    common = ["--train-split", os.path.join(data, "train"), "--out-dir", out, "--device", "cpu",
              "--batch", "2", "--print-every", "1", "--workers", "2"]
    run([sys.executable, TRAIN, *common, "--steps", "2", "--no-eval", "--no-export"])
    with open(os.path.join(out, "train_log.json")) as f:
        first = json.load(f)
    losses = [e["loss"] for e in first["history"]]
    check(len(losses) == 2 and all(math.isfinite(v) for v in losses), f"2 steps, finite losses {losses}")
    check(os.path.exists(os.path.join(out, "resume.pth")), "resume.pth written")

    run([sys.executable, TRAIN, *common, "--steps", "3", "--resume",
         "--val-split", os.path.join(data, "val")])
    with open(os.path.join(out, "train_log.json")) as f:
        second = json.load(f)
    check(second.get("resumed_from_step") == 2 and second["final"]["step"] == 3
          and second["final"]["this_run_steps"] == 1, "resume continues at step 2 and stops at 3")
    check([e["step"] for e in second["history"]] == [1, 2, 3], "the resumed log keeps the earlier steps")
    m = second.get("eval", {})
    check(0.0 <= m.get("ao", -1) <= 1.0 and 1 <= m.get("frames", 0) <= 7, f"val scored: {m.get('ao')} AO over "
          f"{m.get('frames')} frames")
    for name in ("smat_template.onnx", "smat_track.onnx"):
        check(os.path.getsize(os.path.join(out, name)) > 100_000, f"{name} exported")

    path = os.path.join(out, "checkpoint.pth.tar")
    size = os.path.getsize(path)
    check(size < 16 << 20, f"checkpoint.pth.tar is {size / 2**20:.1f} MiB (< 16 MiB)")
    state = torch.load(path, map_location="cpu")["net"]
    layout = read_layout(os.path.join(ROOT, "python", "smat", "official_checkpoint_keys.txt"))
    check(sorted(state) == sorted(layout), "'net' has exactly the official checkpoint's entries")
    try:
        load_checkpoint(build_smat(), path)
        check(True, "checkpoint loads strictly with smat.checkpoint.load_checkpoint")
    except Exception as exc:  # noqa: BLE001 - reported as a failure
        check(False, f"checkpoint loads strictly: {exc}")

    print("PASSED" if not failures else f"FAILED: {len(failures)} check(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    if len(sys.argv) == 3:
        os.makedirs(sys.argv[2], exist_ok=True)
        sys.exit(main(sys.argv[1], sys.argv[2]))
    with tempfile.TemporaryDirectory() as tmp:
        sys.exit(main(sys.argv[1], tmp))
