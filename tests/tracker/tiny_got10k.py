"""A tiny GOT-10k-layout dataset of rendered moving shapes, for tests where `kestrel synth` is
not built: one coloured rectangle drifting over a gradient, JPEG frames written with Pillow.

    /usr/bin/python3 tests/tracker/tiny_got10k.py ROOT [--split val] [--sequences 3]
        [--frames 10] [--size 320x180] [--seed 0]

Writes ROOT/<split>/list.txt and per sequence 00000001.jpg..., groundtruth.txt (every frame;
for the test split only the first), absence.label, cover.label, cut_by_image.label and
meta_info.ini.
"""
import argparse
import os

import numpy as np
from PIL import Image


def write_sequence(folder, rng, frames, width, height, full_groundtruth):
    os.makedirs(folder, exist_ok=True)
    w, h = int(rng.integers(20, 50)), int(rng.integers(20, 50))
    x, y = float(rng.uniform(w, width - 2 * w)), float(rng.uniform(h, height - 2 * h))
    vx, vy = rng.uniform(-4, 4, size=2)
    colour = rng.integers(40, 255, size=3)
    yy, xx = np.mgrid[0:height, 0:width]
    background = np.stack([xx * 200 / width, yy * 200 / height, np.full_like(xx, 60)], axis=-1)
    boxes = []
    for f in range(frames):
        image = background.copy()
        x0, y0 = int(round(x)), int(round(y))
        image[y0:y0 + h, x0:x0 + w] = colour
        Image.fromarray(image.astype(np.uint8)).save(os.path.join(folder, f"{f + 1:08d}.jpg"), quality=90)
        boxes.append((x0, y0, w, h))
        x = min(max(x + vx, 0), width - w - 1)
        y = min(max(y + vy, 0), height - h - 1)
    lines = [f"{b[0]:.4f},{b[1]:.4f},{b[2]:.4f},{b[3]:.4f}" for b in boxes]
    with open(os.path.join(folder, "groundtruth.txt"), "w") as f:
        f.write("\n".join(lines if full_groundtruth else lines[:1]) + "\n")
    for name, value in (("absence.label", 0), ("cover.label", 8), ("cut_by_image.label", 0)):
        if full_groundtruth:
            with open(os.path.join(folder, name), "w") as f:
                f.write(f"{value}\n" * frames)
    with open(os.path.join(folder, "meta_info.ini"), "w") as f:
        f.write(f"[METAINFO]\nobject_class: rectangle\nresolution: ({width}, {height})\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("root")
    parser.add_argument("--split", default="val")
    parser.add_argument("--sequences", type=int, default=3)
    parser.add_argument("--frames", type=int, default=10)
    parser.add_argument("--size", default="320x180")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    rng = np.random.default_rng(args.seed)
    split_dir = os.path.join(args.root, args.split)
    prefix = "GOT-10k_Test" if args.split == "test" else "GOT-10k_Val"
    names = [f"{prefix}_{i + 1:06d}" for i in range(args.sequences)]
    for name in names:
        write_sequence(os.path.join(split_dir, name), rng, args.frames, width, height, args.split != "test")
    with open(os.path.join(split_dir, "list.txt"), "w") as f:
        f.write("\n".join(names) + "\n")
    print(f"wrote {len(names)} sequences of {args.frames} frames to {split_dir}")


if __name__ == "__main__":
    main()
