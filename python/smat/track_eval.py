"""SMAT's tracking loop in PyTorch, batched over sequences, and GOT-10k's AO / SR scores.

The loop is the Kestrel tracker's (src/tracker: batch_tracker.cpp, crop.cpp, decode.cpp), which
is the official one: template crop (factor 2, 128) once from the first ground-truth box; then
per frame a search crop (factor 4, 256) around the previous box, the tracking network, a 16x16
Hann window times the score map, the box at its arg-max (first maximum on ties) mapped back to
the image, clipped with a 10 px margin. Boxes are kept in float64, as the tracker keeps them.
The scores are src/eval/metrics.cpp's (the toolkit's): IoU of frames 1.. with cover > 0, both
boxes clipped to the image, pooled over all sequences.

    python3 python/smat/track_eval.py --checkpoint CKPT --split DIR [--sequences N]
                                      [--device cuda] [--results DIR]

--results writes DIR/<seq>/<seq>_001.txt, so `kestrel report` can score the same boxes.
"""
import argparse
import math
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List

import numpy as np
import torch

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from smat.crops import crop_batch, crop_windows  # noqa: E402
from smat.got10k_split import Sequence, decode_rgb, read_split  # noqa: E402
from smat.train_pairs import SEARCH_FACTOR, SEARCH_SIZE, TEMPLATE_FACTOR, TEMPLATE_SIZE  # noqa: E402

CLIP_MARGIN = 10.0


def hann_window(n: int) -> np.ndarray:
    """[n,n] float32: w(k) = 0.5 - 0.5 cos(2 pi k / (n + 1)), k = 1..n, outer product."""
    w = np.array([0.5 - 0.5 * math.cos(2 * math.pi * k / (n + 1)) for k in range(1, n + 1)],
                 dtype=np.float32)
    return w[:, None] * w[None, :]


def map_back_and_clip(crop_box: np.ndarray, prev: np.ndarray, resize_factor: np.ndarray,
                      width: float, height: float) -> np.ndarray:
    """crop_box [B,4] (cx, cy, w, h in crop units), prev [B,4] x,y,w,h -> clipped boxes."""
    scale = SEARCH_SIZE / resize_factor
    cx, cy = crop_box[:, 0] * scale, crop_box[:, 1] * scale
    w, h = crop_box[:, 2] * scale, crop_box[:, 3] * scale
    half = 0.5 * SEARCH_SIZE / resize_factor
    cx = cx + (prev[:, 0] + 0.5 * prev[:, 2] - half)
    cy = cy + (prev[:, 1] + 0.5 * prev[:, 3] - half)
    x, y = cx - 0.5 * w, cy - 0.5 * h
    m = CLIP_MARGIN
    x1 = np.minimum(np.maximum(0.0, x), width - m)
    x2 = np.minimum(np.maximum(m, x + w), width)
    y1 = np.minimum(np.maximum(0.0, y), height - m)
    y2 = np.minimum(np.maximum(m, y + h), height)
    return np.stack([x1, y1, np.maximum(m, x2 - x1), np.maximum(m, y2 - y1)], axis=1)


def _to_device(windows, device):
    return [torch.as_tensor(a, device=device) for a in windows[:3]]


@torch.no_grad()
def track(model, sequences: List[Sequence], device: torch.device, workers: int = 8,
          batch: int = 64) -> List[np.ndarray]:
    """Predicted boxes [F,4] per sequence (frame 0: the initial box). model in eval mode."""
    window = torch.as_tensor(hann_window(16), device=device)
    results = [None] * len(sequences)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for start in range(0, len(sequences), batch):
            group = list(range(start, min(start + batch, len(sequences))))
            for i, boxes in zip(group, _track_group(model, [sequences[i] for i in group],
                                                    device, window, pool)):
                results[i] = boxes
    return results


def _track_group(model, seqs: List[Sequence], device, window, pool) -> List[np.ndarray]:
    length = max(len(s.frames) for s in seqs)
    out = [np.zeros((len(s.frames), 4)) for s in seqs]

    def load(f):
        active = [i for i, s in enumerate(seqs) if f < len(s.frames)]
        return active, [pool.submit(decode_rgb, seqs[i].frames[f]) for i in active]

    pending = load(0)
    z = boxes = None
    for f in range(length):
        active, futures = pending
        if f + 1 < length:
            pending = load(f + 1)     # decode the next frames while this one runs
        images = [fu.result() for fu in futures]
        if any(im.shape != images[0].shape for im in images):
            raise ValueError("sequences tracked together must have one frame size")
        images = np.stack(images)
        frames = torch.from_numpy(images).to(device)
        height, width = images.shape[1:3]
        idx = torch.arange(len(active), device=device)
        if f == 0:
            boxes = np.stack([s.boxes[0] for s in seqs]).astype(np.float64)
            tx, ty, ts = _to_device(crop_windows(boxes, TEMPLATE_FACTOR, TEMPLATE_SIZE), device)
            z = model.backbone.stem(crop_batch(frames, idx, tx, ty, ts, TEMPLATE_SIZE))
            for i in range(len(seqs)):
                out[i][0] = boxes[i]
            continue
        sel = np.asarray(active)
        prev = boxes[sel]
        windows = crop_windows(prev, SEARCH_FACTOR, SEARCH_SIZE)
        sx, sy, ss = _to_device(windows, device)
        x = crop_batch(frames, idx, sx, sy, ss, SEARCH_SIZE)
        _, score, size, offset = model(z[torch.as_tensor(sel, device=device)], x)
        feat = score.shape[-1]
        peak = (score[:, 0] * window).flatten(1).argmax(dim=1)   # first maximum on ties
        gather = peak[:, None, None].expand(-1, 2, 1)
        size_at = size.flatten(2).gather(2, gather).squeeze(-1).double().cpu().numpy()
        offset_at = offset.flatten(2).gather(2, gather).squeeze(-1).double().cpu().numpy()
        peak = peak.cpu().numpy()
        crop_box = np.stack([((peak % feat) + offset_at[:, 0]) / feat,
                             ((peak // feat) + offset_at[:, 1]) / feat,
                             size_at[:, 0], size_at[:, 1]], axis=1)
        new = map_back_and_clip(crop_box, prev, windows[3], float(width), float(height))
        boxes[sel] = new
        for k, i in enumerate(active):
            out[i][f] = new[k]
    return out


def bounded_iou(a: np.ndarray, b: np.ndarray, width: float, height: float) -> np.ndarray:
    """The toolkit's rect_iou with bound (width, height), rows of x, y, w, h."""
    def clip(r):
        r = r.copy()
        r[:, 0] = np.clip(r[:, 0], 0, width)
        r[:, 1] = np.clip(r[:, 1], 0, height)
        r[:, 2] = np.clip(r[:, 2], 0, width - r[:, 0])
        r[:, 3] = np.clip(r[:, 3], 0, height - r[:, 1])
        return r
    a, b = clip(a), clip(b)
    x1, y1 = np.maximum(a[:, 0], b[:, 0]), np.maximum(a[:, 1], b[:, 1])
    x2 = np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2])
    y2 = np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3])
    inter = np.maximum(x2 - x1, 0) * np.maximum(y2 - y1, 0)
    union = a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter
    return np.clip(inter / (union + np.finfo(np.float64).eps), 0.0, 1.0)


def sequence_ious(seq: Sequence, predicted: np.ndarray, frame_size) -> np.ndarray:
    """IoUs of frames 1.. with cover > 0; bounds from meta_info.ini, else the frame size."""
    width, height = seq.resolution if seq.resolution else frame_size
    keep = np.arange(len(seq.frames)) >= 1
    keep &= seq.cover > 0
    return bounded_iou(predicted[keep], seq.boxes[keep], float(width), float(height))


def summarize(ious: np.ndarray) -> Dict[str, float]:
    if len(ious) == 0:
        return {"ao": float("nan"), "sr50": float("nan"), "sr75": float("nan"), "frames": 0}
    return {"ao": float(ious.mean()), "sr50": float((ious > 0.5).mean()),
            "sr75": float((ious > 0.75).mean()), "frames": int(len(ious))}


def evaluate(model, split_dir: str, device: torch.device, limit=None, workers: int = 8,
             results_dir=None) -> Dict[str, object]:
    """Tracks the split's first `limit` sequences in FP32 and scores them."""
    started = time.time()
    sequences = read_split(split_dir, limit)
    tf32 = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    # FP32 as the exported networks compute, not TF32.
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try:
        predicted = track(model, sequences, device, workers)
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = tf32
    all_ious, per_sequence = [], {}
    for seq, boxes in zip(sequences, predicted):
        frame_size = decode_rgb(seq.frames[0]).shape[1::-1] if not seq.resolution else None
        ious = sequence_ious(seq, boxes, frame_size)
        per_sequence[seq.name] = summarize(ious)["ao"]
        all_ious.append(ious)
        if results_dir:
            folder = os.path.join(results_dir, seq.name)
            os.makedirs(folder, exist_ok=True)
            np.savetxt(os.path.join(folder, f"{seq.name}_001.txt"), boxes, fmt="%.4f", delimiter=",")
    metrics = summarize(np.concatenate(all_ious))
    metrics.update(sequences=len(sequences), seconds=round(time.time() - started, 2),
                   per_sequence_ao=per_sequence)
    return metrics


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Track a GOT-10k split with a SMAT checkpoint "
                                                 "in PyTorch and report AO / SR0.5 / SR0.75.")
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--split", required=True, help="split folder holding list.txt")
    parser.add_argument("--sequences", type=int, help="only the first N sequences")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 4)
    parser.add_argument("--results", help="write GOT-10k result files here")
    args = parser.parse_args(argv)

    from smat.checkpoint import CheckpointError, load_checkpoint
    from smat.model import build_smat
    model = build_smat()
    try:
        load_checkpoint(model, args.checkpoint)
    except CheckpointError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    device = torch.device(args.device)
    m = evaluate(model.to(device).eval(), args.split, device, args.sequences, args.workers, args.results)
    print(f"{m['sequences']} sequences, {m['frames']} frames: AO {m['ao']:.4f}  "
          f"SR0.5 {m['sr50']:.4f}  SR0.75 {m['sr75']:.4f}  ({m['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
