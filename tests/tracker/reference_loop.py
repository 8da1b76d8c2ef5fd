"""An independent Python rendering of the official SMAT tracking loop (sample_target, the Hann
window, cal_bbox, map_box_back, clip_box, as in goutamyg/SMAT's lib/test/tracker), run with our
PyTorch model on the same random weights, to check the C++ tracker frame by frame.

    /usr/bin/python3 tests/tracker/reference_loop.py --images DIR --init x,y,w,h \
        --boxes CPP_BOXES.txt [--seed 0]

Each frame f >= 1 is tracked from the C++ tracker's box of frame f-1 (so one difference cannot
snowball) and the result compared with its box of frame f. Crops are resized bilinearly in
float, as the C++ tracker does (cv2.resize would round to uint8). Exit 0 when every box agrees
within 0.05 px + 1e-3 relative, 1 otherwise.
"""
import argparse
import math
import os
import sys

import numpy as np
import torch
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))

from smat.model import TemplateEncoder, TrackingNetwork, build_smat  # noqa: E402
from smat.random_init import randomize_  # noqa: E402

TEMPLATE_FACTOR, TEMPLATE_SIZE = 2.0, 128
SEARCH_FACTOR, SEARCH_SIZE = 4.0, 256
FEAT_SZ = 16


def resize_linear(img, size):
    """cv2.resize(img, (size, size)) with INTER_LINEAR, in float: half-pixel centres, the
    position computed in float32, edge samples repeated."""
    def taps(n):
        scale = n / size
        f = ((np.arange(size) + 0.5) * scale - 0.5).astype(np.float32)
        s = np.floor(f).astype(np.int64)
        w = (f - s).astype(np.float32)
        w[s < 0] = 0
        s[s < 0] = 0
        w[s >= n - 1] = 0
        s[s >= n - 1] = n - 1
        return s, np.minimum(s + 1, n - 1), w
    y0, y1, wy = taps(img.shape[0])
    x0, x1, wx = taps(img.shape[1])
    img = img.astype(np.float32)
    top = img[y0][:, x0] * (1 - wx)[None, :, None] + img[y0][:, x1] * wx[None, :, None]
    bottom = img[y1][:, x0] * (1 - wx)[None, :, None] + img[y1][:, x1] * wx[None, :, None]
    return top * (1 - wy)[:, None, None] + bottom * wy[:, None, None]


def sample_target(im, target_bb, search_area_factor, output_sz):
    """The official crop, line for line: numpy slicing, then zero padding."""
    x, y, w, h = target_bb
    crop_sz = math.ceil(math.sqrt(w * h) * search_area_factor)
    if crop_sz < 1:
        raise Exception("Too small bounding box.")
    x1 = round(x + 0.5 * w - crop_sz * 0.5)
    x2 = x1 + crop_sz
    y1 = round(y + 0.5 * h - crop_sz * 0.5)
    y2 = y1 + crop_sz
    x1_pad = max(0, -x1)
    x2_pad = max(x2 - im.shape[1] + 1, 0)
    y1_pad = max(0, -y1)
    y2_pad = max(y2 - im.shape[0] + 1, 0)
    im_crop = im[y1 + y1_pad:y2 - y2_pad, x1 + x1_pad:x2 - x2_pad, :]
    im_crop_padded = np.pad(im_crop, ((y1_pad, y2_pad), (x1_pad, x2_pad), (0, 0)))  # BORDER_CONSTANT 0
    return resize_linear(im_crop_padded, output_sz), output_sz / crop_sz


def preprocess(patch):
    return torch.from_numpy(np.ascontiguousarray(patch.transpose(2, 0, 1)))[None] / 255.0


def hann2d(sz):
    h = 0.5 * (1 - torch.cos((2 * math.pi / (sz + 1)) * torch.arange(1, sz + 1).float()))
    return h.reshape(1, 1, -1, 1) * h.reshape(1, 1, 1, -1)


def cal_bbox(score, size_map, offset_map):
    _, idx = torch.max(score.flatten(1), dim=1, keepdim=True)
    idx_y = torch.div(idx, FEAT_SZ, rounding_mode="floor")
    idx_x = idx % FEAT_SZ
    idx = idx.unsqueeze(1).expand(idx.shape[0], 2, 1)
    size = size_map.flatten(2).gather(dim=2, index=idx)
    offset = offset_map.flatten(2).gather(dim=2, index=idx).squeeze(-1)
    return torch.cat([(idx_x.to(torch.float) + offset[:, :1]) / FEAT_SZ,
                      (idx_y.to(torch.float) + offset[:, 1:]) / FEAT_SZ, size.squeeze(-1)], dim=1)


def map_box_back(state, pred_box, resize_factor):
    cx_prev, cy_prev = state[0] + 0.5 * state[2], state[1] + 0.5 * state[3]
    cx, cy, w, h = pred_box
    half_side = 0.5 * SEARCH_SIZE / resize_factor
    cx_real = cx + (cx_prev - half_side)
    cy_real = cy + (cy_prev - half_side)
    return [cx_real - 0.5 * w, cy_real - 0.5 * h, w, h]


def clip_box(box, H, W, margin=0):
    x1, y1, w, h = box
    x2, y2 = x1 + w, y1 + h
    x1 = min(max(0, x1), W - margin)
    x2 = min(max(margin, x2), W)
    y1 = min(max(0, y1), H - margin)
    y2 = min(max(margin, y2), H)
    w = max(margin, x2 - x1)
    h = max(margin, y2 - y1)
    return [x1, y1, w, h]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", required=True)
    parser.add_argument("--init", required=True)
    parser.add_argument("--boxes", required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(2)

    frames = sorted(os.path.join(args.images, f) for f in os.listdir(args.images) if f.endswith(".jpg"))
    cpp = np.loadtxt(args.boxes, delimiter=",", ndmin=2)
    assert len(cpp) == len(frames), f"{len(cpp)} boxes for {len(frames)} frames"
    init = [float(v) for v in args.init.split(",")]

    model = randomize_(build_smat(), args.seed)
    encoder, network = TemplateEncoder(model).eval(), TrackingNetwork(model).eval()
    window = hann2d(FEAT_SZ)
    with torch.no_grad():
        first = np.asarray(Image.open(frames[0]).convert("RGB"))
        z_patch, _ = sample_target(first, init, TEMPLATE_FACTOR, TEMPLATE_SIZE)
        z = encoder(preprocess(z_patch))
        worst, failures = 0.0, 0
        for f in range(1, len(frames)):
            image = np.asarray(Image.open(frames[f]).convert("RGB"))
            H, W, _ = image.shape
            state = list(cpp[f - 1])
            x_patch, resize_factor = sample_target(image, state, SEARCH_FACTOR, SEARCH_SIZE)
            _, score_map, size_map, offset_map = network(z, preprocess(x_patch))
            pred = cal_bbox(window * score_map, size_map, offset_map).view(-1, 4)
            pred_box = (pred.mean(dim=0) * SEARCH_SIZE / resize_factor).tolist()
            box = np.array(clip_box(map_box_back(state, pred_box, resize_factor), H, W, margin=10))
            diff = np.abs(box - cpp[f])
            tol = 0.05 + 1e-3 * np.abs(box)
            worst = max(worst, float(diff.max()))
            if (diff > tol).any():
                failures += 1
                print(f"frame {f + 1}: reference {np.round(box, 3).tolist()} vs C++ {cpp[f].tolist()}")
    print(f"reference_loop: {len(frames) - 1} frames, max difference {worst:.4f} px, {failures} outside tolerance")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
