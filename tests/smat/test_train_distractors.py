#!/usr/bin/env python3
"""Unit tests of the look-alike training additions (python/smat/train_distractors.py and the
sampler options in train_pairs.py): pasted copies, their labels and loss weights, the
look-alike sequence weighting and first-frame templates. Deterministic, CPU, a few seconds;
no generated data (sequences and frames are made here).

    /usr/bin/python3 tests/smat/test_train_distractors.py
"""
import os
import sys

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))

from smat.got10k_split import Sequence  # noqa: E402
from smat.train_distractors import (PasteSettings, negative_weights, paste_copies,  # noqa: E402
                                    sample_paste)
from smat.train_loss import centre_heatmap, focal_loss, smat_loss  # noqa: E402
from smat.train_pairs import PairSampler, PairSettings  # noqa: E402
from smat.train_step import make_batch  # noqa: E402

failures = []
OFFICIAL_KEYS = ("t_frame", "t_x1", "t_y1", "t_side", "s_frame", "s_x1", "s_y1", "s_side", "gt",
                 "gray", "flip_t", "flip_s", "bright_t", "bright_s")


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        failures.append(what)


def one_paste(cx, cy, scale=1.0, nudge=(0.0, 0.0, 0.0), shape=6.0, behind=False, on=True):
    """Paste parameters for one sample, as tensors."""
    return {"paste": torch.tensor([on]), "paste_cx": torch.tensor([cx]), "paste_cy": torch.tensor([cy]),
            "paste_scale": torch.tensor([scale]), "paste_nudge": torch.tensor([nudge]),
            "paste_shape": torch.tensor([shape]), "paste_behind": torch.tensor([behind])}


def square_crop(size=64, x=8, y=16, side=16, colour=(0.8, 0.3, 0.2), background=0.5):
    crop = torch.full((1, 3, size, size), background)
    for ch, v in enumerate(colour):
        crop[0, ch, y:y + side, x:x + side] = v
    gt = torch.tensor([[x / size, y / size, side / size, side / size]])
    return crop, gt


def test_paste_pixels():
    crop, gt = square_crop()
    nudge = (0.06, -0.1, 0.03)
    out = paste_copies(crop.clone(), gt, one_paste(48 / 64, 40 / 64, nudge=nudge))
    core = out[0, :, 34:46, 42:54]             # well inside the copy (x 40..56, y 32..48)
    expect = torch.tensor([0.86, 0.2, 0.23])[:, None, None]
    check(torch.allclose(core, expect.expand_as(core), atol=1e-5),
          "the copy holds the target's pixels moved by the colour nudge")
    check(torch.equal(out[0, :, 16:32, 8:24], crop[0, :, 16:32, 8:24]),
          "the target's own pixels are untouched")
    far = out[0, :, 0:10, 40:64]
    check(torch.equal(far, crop[0, :, 0:10, 40:64]), "pixels away from the copy are untouched")
    off = paste_copies(crop.clone(), gt, one_paste(48 / 64, 40 / 64, nudge=nudge, on=False))
    check(torch.equal(off, crop), "paste off: the crop is unchanged")

    big = paste_copies(crop.clone(), gt, one_paste(48 / 64, 40 / 64, scale=1.25, shape=6.0))
    reddish = (big[0, 0] > 0.65) & (big[0, 1] < 0.4)
    ys, xs = torch.nonzero(reddish[:, 32:], as_tuple=True)
    width = int(xs.max() - xs.min() + 1)
    check(19 <= width <= 21, f"scale 1.25 makes a 16-pixel target a {width}-pixel copy (20)")

    # An ellipse-shaped copy (exponent 2) leaves the corners of the copy's box as they were.
    ell = paste_copies(crop.clone(), gt, one_paste(48 / 64, 40 / 64, shape=2.0))
    check(torch.equal(ell[0, :, 32, 40], crop[0, :, 32, 40]) and ell[0, 0, 40, 48] > 0.75,
          "exponent 2: an ellipse (corner untouched, centre copied)")


def test_paste_behind():
    crop, gt = square_crop(x=20, y=20, side=16)
    # A copy overlapping the target's right part, drawn behind it: the target stays on top.
    behind = paste_copies(crop.clone(), gt, one_paste(40 / 64, 28 / 64, nudge=(0.1, 0.1, 0.1),
                                                      shape=6.0, behind=True))
    front = paste_copies(crop.clone(), gt, one_paste(40 / 64, 28 / 64, nudge=(0.1, 0.1, 0.1),
                                                     shape=6.0, behind=False))
    check(torch.equal(behind[0, :, 22:34, 22:34], crop[0, :, 22:34, 22:34]),
          "behind: the target's pixels stay on top")
    check(torch.allclose(front[0, :, 28, 34], torch.tensor([0.9, 0.4, 0.3]), atol=1e-5),
          "in front: the copy covers the overlapping part")


def test_sample_paste_geometry():
    rng = np.random.default_rng(7)
    n = 4000
    w = rng.uniform(0.05, 0.3, n)
    h = rng.uniform(0.05, 0.3, n)
    gt = np.stack([rng.uniform(-0.1, 1 - w + 0.1), rng.uniform(-0.1, 1 - h + 0.1), w, h], 1)
    image = np.tile([0.1, 0.0, 0.95, 0.8], (n, 1))
    p = sample_paste(np.random.default_rng(3), gt, PasteSettings(prob=1.0), image)
    on = p["paste"]
    hw, hh = p["paste_scale"] * w / 2, p["paste_scale"] * h / 2
    inside = ((p["paste_cx"] - hw >= 0.1 - 1e-6) & (p["paste_cx"] + hw <= 0.95 + 1e-6)
              & (p["paste_cy"] - hh >= -1e-6) & (p["paste_cy"] + hh <= 0.8 + 1e-6))
    check(on.mean() > 0.2 and bool(np.all(inside[on])),
          f"copies lie inside the crop and the image ({on.mean():.0%} of pairs got one)")
    src_inside = (gt[:, 0] >= 0) & (gt[:, 1] >= 0) & (gt[:, 0] + w <= 1) & (gt[:, 1] + h <= 1)
    check(not np.any(on & ~src_inside), "no copy of a target that the crop cuts")
    cx, cy = gt[:, 0] + w / 2, gt[:, 1] + h / 2
    d = np.hypot((p["paste_cx"] - cx) / w, (p["paste_cy"] - cy) / h)
    check(bool(np.all((d[on] >= 0.8 - 1e-4) & (d[on] <= 2.0 + 1e-4))),
          "copy centres are 0.8..2 target boxes from the target's centre")
    s, a = p["paste_scale"][on], np.abs(p["paste_nudge"][on]).max(axis=1)
    check(s.min() >= 0.75 and s.max() <= 1.3 and a.min() >= 0.03 - 1e-6 and a.max() <= 0.12 + 1e-6,
          "scale in [0.75, 1.3], largest channel nudge in [0.03, 0.12]")
    q = sample_paste(np.random.default_rng(3), gt, PasteSettings(prob=1.0), image)
    check(all(np.array_equal(p[k], q[k]) for k in p), "paste parameters are a function of the generator")


def test_labels_and_weights():
    gt = torch.tensor([[0.25, 0.3, 0.2, 0.2]])          # centre (0.35, 0.4): cell (6, 6)
    c = one_paste(0.75, 0.4, scale=1.0)
    heat, ix, iy = centre_heatmap(gt, 16)
    peak = int(heat[0, 0].flatten().argmax())
    check((peak % 16, peak // 16) == (6, 6) and (ix.item(), iy.item()) == (6, 6),
          "the centre map peaks at the true target's cell")
    check(heat[0, 0, 6, 12].item() == 0.0, "the centre map is 0 at the copy's cell (12, 6)")
    wts = negative_weights(c, gt, torch.tensor([False]), 16, 3.0)
    check(wts[0, 0, 6, 12].item() == 3.0 and wts[0, 0, 6, 6].item() == 1.0 and wts[0, 0, 0, 0].item() == 1.0,
          "negative weight 3 on the copy, 1 on the target and elsewhere")
    # Flipped crop: gt already flipped (x' = 1 - x - w), the copy's weights follow the mirror.
    gt_f = torch.tensor([[1 - 0.25 - 0.2, 0.3, 0.2, 0.2]])
    wf = negative_weights(c, gt_f, torch.tensor([True]), 16, 3.0)
    check(torch.equal(wf[0, 0, :, 1:], wts[0, 0].flip(-1)[:, :-1]) and wf[0, 0, 6, 4].item() == 3.0,
          "flipped crop: the weights are mirrored with it")

    # The weight scales the negative terms only.
    pred = torch.full((1, 1, 16, 16), 0.05)
    pred[0, 0, 6, 12] = 0.9
    plain = focal_loss(pred, heat)
    check(torch.allclose(focal_loss(pred, heat, neg_weight=torch.ones_like(pred)), plain),
          "focal loss with weights 1 equals the plain focal loss")
    weighted = focal_loss(pred, heat, neg_weight=wts)
    # (3 - 1) x the negative terms of the copy's cells (the target's map is 0 there; one positive).
    terms = -torch.log(1 - pred) * pred ** 2 * (1 - heat) ** 4
    extra = 2 * terms[wts == 3].sum()
    check(torch.allclose(weighted - plain, extra, atol=1e-6) and extra > 0.15,
          "weight 3 triples the penalty of the copy's cells")


def fake_sequences():
    """Six sequences of 30 frames of 160x90; 0, 2 and 4 have look-alikes; frame 0 of sequence 1
    is absent (its first visible frame is 1)."""
    rng = np.random.default_rng(11)
    seqs = []
    for i in range(6):
        f = 30
        boxes = np.stack([rng.uniform(30, 100, f), rng.uniform(20, 50, f), np.full(f, 24.0), np.full(f, 18.0)], 1)
        absence = np.zeros(f, dtype=np.int64)
        cover = np.full(f, 8, dtype=np.int64)
        if i == 1:
            absence[0], cover[0] = 1, 0
        seqs.append(Sequence(f"s{i}", [f"s{i}/{k:08d}.jpg" for k in range(f)], boxes, absence, cover,
                             (160, 90), 1 if i % 2 == 0 else 0))
    return seqs


def test_sampler():
    seqs = fake_sequences()
    offsets = np.cumsum([0] + [30] * 6)
    base = PairSampler(seqs, PairSettings(), seed=4, steps_per_chunk=8).chunk(2, 16)
    new = PairSampler(seqs, PairSettings(paste=PasteSettings()), seed=4, steps_per_chunk=8).chunk(2, 16)
    check(all(np.array_equal(base[k], new[k]) for k in OFFICIAL_KEYS),
          "pasting draws from its own generator: the official pair parameters are unchanged")
    again = PairSampler(seqs, PairSettings(paste=PasteSettings()), seed=4, steps_per_chunk=8).chunk(2, 16)
    check(all(np.array_equal(again[k], new[k]) for k in new), "a chunk is a function of (seed, chunk)")

    weighted = PairSampler(seqs, PairSettings(lookalike_weight=3.0), seed=1, steps_per_chunk=64).chunk(0, 64)
    seq_of = np.searchsorted(offsets, weighted["s_frame"], side="right") - 1
    share = np.isin(seq_of, [0, 2, 4]).mean()
    check(abs(share - 0.75) < 0.03, f"look-alike weight 3: {share:.3f} of pairs from those sequences (0.75)")
    check(np.array_equal(np.searchsorted(offsets, weighted["t_frame"], side="right") - 1, seq_of),
          "template and search come from the same sequence")

    first = PairSampler(seqs, PairSettings(template_first_prob=1.0), seed=1, steps_per_chunk=8).chunk(0, 16)
    t_local = first["t_frame"] - offsets[np.searchsorted(offsets, first["t_frame"], side="right") - 1]
    t_seq = np.searchsorted(offsets, first["t_frame"], side="right") - 1
    expect = np.where(t_seq == 1, 1, 0)
    check(np.array_equal(t_local, expect) and np.all(first["s_frame"] > first["t_frame"]),
          "template-first 1: every template is its sequence's first visible frame, search after it")
    half = PairSampler(seqs, PairSettings(template_first_prob=0.5), seed=1, steps_per_chunk=64).chunk(0, 64)
    h_local = half["t_frame"] - offsets[np.searchsorted(offsets, half["t_frame"], side="right") - 1]
    check(0.45 < np.mean(h_local <= 1) < 0.6, f"template-first 0.5: {np.mean(h_local <= 1):.2f} first frames")


def test_make_batch():
    """Through the training path: a pasted copy changes the search crop but not the label, and
    the centre map still peaks on the true target in the flipped, augmented crop."""
    seqs = fake_sequences()
    rng = np.random.default_rng(5)
    frames = torch.from_numpy(rng.integers(0, 256, size=(180, 90, 160, 3), dtype=np.uint8))
    settings = PairSettings(gray_prob=0.0, brightness=0.0, paste=PasteSettings(prob=0.5))
    chunk = {k: torch.as_tensor(v) for k, v in
             PairSampler(seqs, settings, seed=2, steps_per_chunk=2).chunk(0, 32).items()}
    rows = slice(0, 32)
    t, s, gt, w = make_batch(frames, chunk, rows, negative_weight=2.0)
    plain = {k: v for k, v in chunk.items() if not k.startswith("paste")}
    t0, s0, gt0, w0 = make_batch(frames, plain, rows, negative_weight=2.0)
    on = chunk["paste"][rows]
    check(bool(on.any()) and bool((~on).any()), f"{int(on.sum())} of 32 pairs have a copy")
    check(torch.equal(gt, gt0) and torch.equal(t, t0) and w0 is None,
          "the label and the template do not depend on the paste")
    changed = (s - s0).abs().flatten(1).amax(1) > 0
    check(torch.equal(changed, on), "exactly the pairs with a copy have a changed search crop")
    heat, ix, iy = centre_heatmap(gt, 16)
    b = torch.arange(32)
    check(bool(torch.all(heat[b, 0, iy.clamp(0, 15), ix.clamp(0, 15)] == 1)) and bool(torch.all(w[b, 0, iy, ix] == 1)),
          "the centre map is 1 at the true centre and the copy's weights leave it at 1")
    check(bool(torch.all((w.flatten(1) > 1).any(1) == on)), "the weights are raised where (and only where) a copy is")
    # The copy's weighted cells coincide with changed pixels of the flipped, augmented crop.
    diff = (s - s0).abs().amax(1)                          # [B,256,256]
    cell_diff = torch.nn.functional.max_pool2d(diff[:, None], 16)[:, 0]   # [B,16,16], cell (i,j) -> pixels 16i..
    hits = [bool(cell_diff[i][w[i, 0] > 1].max() > 0) for i in range(32) if on[i]]
    check(all(hits), "the raised cells lie on the pasted pixels (flip included)")
    score = torch.full((32, 1, 16, 16), 0.01)
    size = torch.full((32, 2, 16, 16), 0.2)
    off = torch.zeros((32, 2, 16, 16))
    loss, parts = smat_loss(score, size, off, gt, "both", w)
    check(bool(torch.isfinite(loss)), "smat_loss with negative weights is finite")


def main():
    torch.manual_seed(0)
    test_paste_pixels()
    test_paste_behind()
    test_sample_paste_geometry()
    test_labels_and_weights()
    test_sampler()
    test_make_batch()
    print("PASSED" if not failures else f"FAILED: {len(failures)} check(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
