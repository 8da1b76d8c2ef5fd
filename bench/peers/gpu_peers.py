"""GPU peers of Kestrel on the SMAT networks, measured in one run on one GPU.

    python3 bench/peers/gpu_peers.py --kestrel build/kestrel --out-dir OUT
        [--checkpoint CKPT | --seed 0] [--onnx-dir DIR] [--batch 32] [--iters 300]

PyTorch (the installed 2.x) runs our SMAT definition (python/smat) with the same weights as the
ONNX files Kestrel builds from: eager FP32 (TF32 off) and FP16, both again captured in one CUDA
graph, torch.compile(mode="reduce-overhead") FP16, eager FP16 at batch N; Kestrel builds FP32 and
FP16 engines (batch 1, and batch N from an export with a fixed batch of N) and times them with `kestrel bench`. ONNX
Runtime's CPU provider is timed too where it is installed. Prints one Markdown table with the
median latency of each and its ratio to Kestrel FP16, and writes OUT/gpu_peers.json.

Timing: CUDA events around each call after warm-up; the median of --iters calls. Kestrel's figure
is its GPU compute median (what the peers' events measure: no host copies).
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "python"))
from smat.model import TemplateEncoder, TrackingNetwork, build_smat  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--kestrel", required=True, help="the kestrel binary")
    p.add_argument("--out-dir", required=True)
    p.add_argument("--checkpoint", help="official-layout checkpoint (default: random weights)")
    p.add_argument("--seed", type=int, default=0, help="random weights when no checkpoint")
    p.add_argument("--onnx-dir", help="exports of the same weights (default: exported here)")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--iters", type=int, default=300)
    p.add_argument("--skip-compile", action="store_true", help="leave out torch.compile")
    return p.parse_args()


def load_model(args):
    model = build_smat()
    if args.checkpoint:
        from smat.checkpoint import load_checkpoint
        load_checkpoint(model, args.checkpoint)
    else:
        from smat.random_init import randomize_
        randomize_(model, args.seed)
    return model.eval()


def time_cuda(fn, iters, warmup=30):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    for _ in range(iters):
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return float(np.median(times))


def in_cuda_graph(fn):
    """Captures fn once (on a side stream, after warm-up, as PyTorch's docs do) and replays it."""
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(3):
            fn()
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        fn()
    return graph.replay


def torch_rows(args, model):
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    rows = []
    track = TrackingNetwork(model).cuda().eval()
    track16 = TrackingNetwork(build_smat()).cuda().eval()
    track16.load_state_dict(track.state_dict())
    track16.half()
    z = torch.randn(1, 128, 32, 32, device="cuda")
    x = torch.rand(1, 3, 256, 256, device="cuda")
    z16, x16 = z.half(), x.half()
    with torch.inference_mode():
        rows.append(("PyTorch eager FP32", 1, time_cuda(lambda: track(z, x), args.iters)))
        rows.append(("PyTorch eager FP32, CUDA graph", 1, time_cuda(in_cuda_graph(lambda: track(z, x)), args.iters)))
        rows.append(("PyTorch eager FP16", 1, time_cuda(lambda: track16(z16, x16), args.iters)))
        rows.append(("PyTorch eager FP16, CUDA graph", 1,
                     time_cuda(in_cuda_graph(lambda: track16(z16, x16)), args.iters)))
        zb, xb = z16.expand(args.batch, -1, -1, -1).contiguous(), x16.expand(args.batch, -1, -1, -1).contiguous()
        rows.append((f"PyTorch eager FP16, batch {args.batch}", args.batch,
                     time_cuda(lambda: track16(zb, xb), max(50, args.iters // 4))))
    if not args.skip_compile:
        try:
            t0 = time.time()
            compiled = torch.compile(track16, mode="reduce-overhead")
            with torch.inference_mode():
                for _ in range(3):
                    compiled(z16, x16)
                torch.cuda.synchronize()
                compile_s = time.time() - t0
                rows.append((f"torch.compile reduce-overhead FP16 ({compile_s:.1f} s compile)", 1,
                             time_cuda(lambda: compiled(z16, x16), args.iters)))
        except Exception as e:  # a peer that cannot run is reported, not fatal
            print(f"torch.compile failed: {e}", file=sys.stderr)
    return rows


def export(args, out_dir, batch):
    cmd = [sys.executable, os.path.join(REPO, "python", "smat", "export.py"), "--out-dir", out_dir,
           "--batch", str(batch)]
    cmd += ["--checkpoint", args.checkpoint] if args.checkpoint else ["--seed", str(args.seed)]
    subprocess.run(cmd, check=True, capture_output=True)
    return out_dir


def kestrel_rows(args, onnx_dir):
    rows = []
    batched_dir = export(args, os.path.join(args.out_dir, f"onnx_b{args.batch}"), args.batch)
    for precision in ("fp32", "fp16"):
        for batch in (1, args.batch):
            model_dir = onnx_dir if batch == 1 else batched_dir
            cmd = [args.kestrel, "bench", os.path.join(model_dir, "smat_track.onnx"), "--device", "cuda",
                   "--duration-s", "2",
                   "--json", os.path.join(args.out_dir, f"kestrel_{precision}_b{batch}.json")]
            if precision == "fp16":
                cmd.append("--fp16")
            done = subprocess.run(cmd, capture_output=True, text=True)
            print(done.stdout[-3000:])
            if done.returncode != 0:
                print(f"kestrel bench failed ({' '.join(cmd)}):\n{done.stderr[-2000:]}", file=sys.stderr)
                continue
            with open(os.path.join(args.out_dir, f"kestrel_{precision}_b{batch}.json")) as f:
                report = json.load(f)
            rows.append((f"Kestrel {precision.upper()}" + (f", batch {batch}" if batch > 1 else ""), batch,
                         report["gpu_compute"]["median_ms"]))
    return rows


def ort_row(onnx_dir, iters):
    try:
        import onnxruntime as ort
    except ImportError:
        return []
    session = ort.InferenceSession(os.path.join(onnx_dir, "smat_track.onnx"), providers=["CPUExecutionProvider"])
    feeds = {"z": np.random.randn(1, 128, 32, 32).astype(np.float32),
             "x": np.random.rand(1, 3, 256, 256).astype(np.float32)}
    for _ in range(5):
        session.run(None, feeds)
    times = []
    for _ in range(min(iters, 100)):
        t0 = time.perf_counter()
        session.run(None, feeds)
        times.append((time.perf_counter() - t0) * 1e3)
    return [(f"ONNX Runtime {ort.__version__} CPU ({os.cpu_count()} cores)", 1, float(np.median(times)))]


def main():
    args = parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    model = load_model(args)
    onnx_dir = args.onnx_dir or export(args, os.path.join(args.out_dir, "onnx"), 1)
    rows = kestrel_rows(args, onnx_dir) + torch_rows(args, model) + ort_row(onnx_dir, args.iters)
    base = next((ms for name, b, ms in rows if name == "Kestrel FP16"), None)
    print(f"\nSMAT tracking network on {torch.cuda.get_device_name()} (torch {torch.__version__})\n")
    print("| runner | batch | median ms | frames/s | Kestrel FP16 is faster by |")
    print("|---|---|---|---|---|")
    table = []
    for name, batch, ms in rows:
        ratio = f"{ms / base:.2f}x" if base and batch == 1 else ""
        print(f"| {name} | {batch} | {ms:.4f} | {batch * 1000 / ms:,.0f} | {ratio} |")
        table.append({"runner": name, "batch": batch, "median_ms": ms, "frames_per_s": batch * 1000 / ms})
    path = os.path.join(args.out_dir, "gpu_peers.json")
    with open(path + ".tmp", "w") as f:
        json.dump({"device": torch.cuda.get_device_name(), "torch": torch.__version__, "rows": table}, f, indent=1)
    os.replace(path + ".tmp", path)


if __name__ == "__main__":
    main()
