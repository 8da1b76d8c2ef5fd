"""ONNX Runtime runs Kestrel's QDQ export and agrees with Kestrel's own INT8 (QDQ) execution.

usage: test_qdq_ort.py KESTREL_BIN WORKDIR [NODE_PATH]
A small SMAT-like network (conv stem, InstanceNorm, a correlation MatMul of template and search
features, a conv head with a sigmoid score map) is exported with torch, quantized with
`kestrel quantize` on random calibration inputs, then run by `kestrel run` and by ONNX Runtime
(onnxruntime-node) on held-out inputs. Exit 77 (skipped, with the reason) when node or
onnxruntime-node is missing.
"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))


class SmatLike(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), nn.ReLU(), nn.Conv2d(16, 16, 3, 1, 1), nn.ReLU())
        self.norm = nn.GroupNorm(1, 16)
        self.mix = nn.Conv2d(16, 16, 1)
        self.fuse = nn.Conv2d(16, 16, 1)
        self.head = nn.Sequential(nn.Conv2d(16, 16, 3, 1, 1), nn.ReLU(), nn.Conv2d(16, 1, 1))

    def forward(self, z, x):
        f = self.mix(self.norm(self.stem(x)))              # [1,16,8,8]
        t = z.flatten(2).transpose(1, 2)                   # [1,16(pos),16(ch)]
        corr = torch.matmul(t, f.flatten(2)).view(1, 16, 8, 8)  # the correlation
        score = torch.sigmoid(self.head(torch.relu(self.fuse(corr))))
        return score


def skip(reason):
    print(f"SKIPPED: {reason}")
    sys.exit(77)


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        print(p.stdout, p.stderr)
        raise SystemExit(f"failed ({p.returncode}): {' '.join(cmd)}")
    return p.stdout


def main():
    kestrel, work = sys.argv[1], sys.argv[2]
    node_path = sys.argv[3] if len(sys.argv) > 3 else os.environ.get("NODE_PATH", "")
    if shutil.which("node") is None:
        skip("node is not installed")
    env = dict(os.environ, NODE_PATH=node_path)
    probe = subprocess.run(["node", "-e", "require('onnxruntime-node')"], capture_output=True, env=env)
    if probe.returncode != 0:
        skip(f"onnxruntime-node is not found through NODE_PATH={node_path!r}")
    os.makedirs(work, exist_ok=True)
    torch.manual_seed(0)
    model = SmatLike().eval()
    z0, x0 = torch.rand(1, 16, 4, 4), torch.rand(1, 3, 16, 16)
    onnx_path = os.path.join(work, "smat_like.onnx")
    torch.onnx.export(model, (z0, x0), onnx_path, input_names=["z", "x"], output_names=["score_map"], opset_version=17)
    rng = np.random.default_rng(1)
    np.savez(os.path.join(work, "calib.npz"), z=rng.random((32, 16, 4, 4), np.float32),
             x=rng.random((32, 3, 16, 16), np.float32))
    qdq = os.path.join(work, "smat_like.qdq.onnx")
    # The correlation MatMul runs in INT8 too here, so that every kind of QDQ node is exercised.
    run([kestrel, "quantize", onnx_path, "--calib-data", os.path.join(work, "calib.npz"), "--calib-algo", "minmax",
         "--layer-precision", "/MatMul=int8", "-o", qdq])
    worst = {"disabled": 0.0, "all": 0.0}
    for sample in range(4):
        z = rng.random((1, 16, 4, 4), np.float32)
        x = rng.random((1, 3, 16, 16), np.float32)
        np.savez(os.path.join(work, "in.npz"), z=z, x=x)
        run([kestrel, "run", qdq, "--inputs", os.path.join(work, "in.npz"), "--save-outputs", os.path.join(work, "k.npz")])
        kestrel_score = np.load(os.path.join(work, "k.npz"))["score_map"]
        fp32_score = model(torch.from_numpy(z), torch.from_numpy(x)).detach().numpy()
        inputs = []
        for name, a in (("z", z), ("x", x)):
            a.tofile(os.path.join(work, f"{name}.bin"))
            inputs.append({"name": name, "shape": list(a.shape), "file": f"{name}.bin"})
        with open(os.path.join(work, "inputs.json"), "w") as f:
            json.dump(inputs, f)
        for level in ("disabled", "all"):
            run(["node", os.path.join(HERE, "ort_run.js"), qdq, work, level], env=env)
            out = json.load(open(os.path.join(work, "ort_outputs.json")))[0]
            ort_score = np.fromfile(os.path.join(work, out["file"]), np.float32).reshape(out["shape"])
            err = float(np.abs(ort_score - kestrel_score).max())
            worst[level] = max(worst[level], err)
            assert np.argmax(ort_score) == np.argmax(kestrel_score), f"sample {sample} ({level}): arg-max differs"
        # The QDQ model is a quantized network, not the float one: it must differ from FP32 a little.
        assert np.abs(kestrel_score - fp32_score).max() > 0, "the QDQ model did not quantize anything"
    print(f"max |ORT - Kestrel| on the score map: {worst['disabled']:.2e} (ORT unfused), {worst['all']:.2e} (ORT fused int8 kernels)")
    # Unfused, both evaluate the same QDQ arithmetic: only float summation order differs, which
    # can move a value across a rounding boundary of a later Q (one step, 1/127 of a tensor's range).
    assert worst["disabled"] <= 1e-3, worst
    # Fused, ORT requantizes inside its integer kernels: a few steps of difference are expected.
    assert worst["all"] <= 2e-2, worst
    print("OK")


if __name__ == "__main__":
    main()
