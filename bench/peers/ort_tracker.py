"""The deployment users have today, as a peer of `kestrel eval`: SMAT's tracking loop with ONNX
Runtime doing the inference (what the SMAT authors' C++ port does), one sequence at a time.

    python3 bench/peers/ort_tracker.py --models DIR --split ROOT/val -o RESULTS [--sequences N]
        [--threads T]

DIR holds smat_template.onnx and smat_track.onnx. The loop is python/smat/track_eval.py's (the
official one, which Kestrel's tracker implements): template crop once, then per frame the search
crop around the previous box, the tracking network, the Hann window, the decode at the arg-max,
mapping back and clipping. Writes RESULTS/<seq>/<seq>_001.txt and <seq>_time.txt (seconds per
frame for crop + inference + decode, JPEG decoding excluded as GOT-10k's timing does), so
`kestrel report RESULTS --dataset ROOT --split val` scores it next to Kestrel's results.

ONNX Runtime comes from its Python package where one is installed (the GPU machine), else from
the npm package onnxruntime-node through a helper process (bench/peers/ort_node_session.py; the
CPU machine, NODE_PATH=BUILD/peers/ort/node_modules as cpu_peers.sh installs it): `--runtime
auto|python|node`. The node bridge adds a pipe round trip to each step (about 1 MB of tensors),
so the summary also prints the inference time alone.
"""
import argparse
import os
import sys
import time

import numpy as np
import torch

try:
    import onnxruntime as ort
except ImportError:  # the CPU machine: onnxruntime-node through ort_node_session.py
    ort = None

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "python"))
from smat.crops import crop_batch, crop_windows  # noqa: E402
from smat.got10k_split import decode_rgb, read_split  # noqa: E402
from smat.track_eval import hann_window, map_back_and_clip  # noqa: E402
from smat.train_pairs import SEARCH_FACTOR, SEARCH_SIZE, TEMPLATE_FACTOR, TEMPLATE_SIZE  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ort_node_session import NodeOrtSessions  # noqa: E402


def crop(frame, box, factor, size):
    x1, y1, side, resize = crop_windows(box[None], factor, size)
    t = lambda a: torch.as_tensor(a)  # noqa: E731
    frames = torch.from_numpy(np.require(frame, requirements="W"))[None]  # decode_rgb's array may be read-only
    patch = crop_batch(frames, torch.zeros(1, dtype=torch.int64), t(x1), t(y1), t(side), size)
    return patch.numpy(), resize


def track_sequence(template_net, track_net, seq, window):
    """Boxes, seconds per frame (crop + inference + decode) and seconds of tracking inference."""
    boxes = np.zeros((len(seq.frames), 4))
    times = np.zeros(len(seq.frames))
    infer = np.zeros(len(seq.frames))
    box = np.asarray(seq.boxes[0], dtype=np.float64)
    for f, path in enumerate(seq.frames):
        frame = decode_rgb(path)
        started = time.perf_counter()
        if f == 0:
            patch, _ = crop(frame, box, TEMPLATE_FACTOR, TEMPLATE_SIZE)
            z = template_net.run(None, {"template": patch})[0]
        else:
            patch, resize = crop(frame, box, SEARCH_FACTOR, SEARCH_SIZE)
            infer_started = time.perf_counter()
            _, score, size, offset = track_net.run(None, {"z": z, "x": patch})
            infer[f] = getattr(track_net, "last_seconds", None) or time.perf_counter() - infer_started
            feat = score.shape[-1]
            peak = int(np.argmax((score[0, 0] * window).ravel()))
            cy, cx = divmod(peak, feat)
            crop_box = np.array([[(cx + offset[0, 0, cy, cx]) / feat, (cy + offset[0, 1, cy, cx]) / feat,
                                  size[0, 0, cy, cx], size[0, 1, cy, cx]]], dtype=np.float64)
            box = map_back_and_clip(crop_box, box[None], resize, float(frame.shape[1]), float(frame.shape[0]))[0]
        times[f] = time.perf_counter() - started
        boxes[f] = box
    return boxes, times, infer


def write_atomically(path, array, fmt):
    tmp = f"{path}.tmp{os.getpid()}"
    np.savetxt(tmp, array, fmt=fmt, delimiter=",")
    os.replace(tmp, path)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", required=True)
    p.add_argument("--split", required=True)
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--sequences", type=int)
    p.add_argument("--threads", type=int, default=0, help="ONNX Runtime intra-op threads (0: its default)")
    p.add_argument("--runtime", choices=("auto", "python", "node"), default="auto",
                   help="ONNX Runtime's Python package, or onnxruntime-node (auto: Python where installed)")
    args = p.parse_args()
    use_node = args.runtime == "node" or (args.runtime == "auto" and ort is None)
    if use_node:
        node = NodeOrtSessions(args.models, args.threads)
        template_net, track_net = node.session("smat_template"), node.session("smat_track")
        version = f"{node.version} (onnxruntime-node)"
    else:
        if ort is None:
            sys.exit("ort_tracker: onnxruntime is not installed for this Python; use --runtime node")
        options = ort.SessionOptions()
        options.intra_op_num_threads = args.threads
        session = lambda name: ort.InferenceSession(os.path.join(args.models, name), options,  # noqa: E731
                                                    providers=["CPUExecutionProvider"])
        template_net, track_net = session("smat_template.onnx"), session("smat_track.onnx")
        version = ort.__version__
    window = hann_window(16).astype(np.float32)
    torch.set_num_threads(1)
    all_times, all_infer = [], []
    for seq in read_split(args.split, args.sequences):
        boxes, times, infer = track_sequence(template_net, track_net, seq, window)
        folder = os.path.join(args.output, seq.name)
        os.makedirs(folder, exist_ok=True)
        write_atomically(os.path.join(folder, f"{seq.name}_001.txt"), boxes, "%.4f")
        write_atomically(os.path.join(folder, f"{seq.name}_time.txt"), times[:, None], "%.6f")
        all_times.append(times[1:])
        all_infer.append(infer[1:])
    t, i = np.concatenate(all_times), np.concatenate(all_infer)
    print(f"ONNX Runtime {version} loop: {len(all_times)} sequences, {len(t)} frames, "
          f"mean {1e3 * t.mean():.2f} ms per frame ({1 / t.mean():.1f} fps; {np.mean(1 / t):.1f} as the mean of "
          f"1/t), of which tracking inference {1e3 * i.mean():.2f} ms (median {1e3 * np.median(i):.2f})")
    if use_node:
        node.close()


if __name__ == "__main__":
    main()
