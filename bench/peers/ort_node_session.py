"""ONNX Runtime through onnxruntime-node (bench/peers/ort_node_server.js), for machines where
ONNX Runtime's Python package is missing but its npm package is installed (cpu_peers.sh puts it
under BUILD/peers/ort). `NodeOrtSessions(model_dir, threads).session(name)` gives an object whose
`run(None, feeds)` returns the outputs in the model's order, as onnxruntime.InferenceSession.run
does; `last_ms` is the inference time the server measured, without the pipe."""
import json
import os
import struct
import subprocess

import numpy as np

SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ort_node_server.js")


class NodeOrtSessions:
    def __init__(self, model_dir, threads=0, node="node"):
        self.process = subprocess.Popen([node, SERVER, model_dir, str(threads)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE)
        ready, _ = self._read()
        if not ready.get("ready"):
            raise RuntimeError(f"ort_node_server did not start: {ready}")
        self.version = ready["version"]
        self.last_ms = 0.0

    def _read_exactly(self, n):
        data = self.process.stdout.read(n)
        if data is None or len(data) != n:
            raise RuntimeError(f"ort_node_server stopped (exit {self.process.poll()}); see its stderr")
        return data

    def _read(self):
        (length,) = struct.unpack("<I", self._read_exactly(4))
        header = json.loads(self._read_exactly(length))
        tensors = []
        for out in header.get("outputs", []):
            count = int(np.prod(out["dims"])) if out["dims"] else 1
            tensors.append(np.frombuffer(self._read_exactly(4 * count), dtype=np.float32).reshape(out["dims"]))
        return header, tensors

    def run(self, model, feeds):
        arrays = [np.ascontiguousarray(v, dtype=np.float32) for v in feeds.values()]
        header = json.dumps({"model": model, "inputs": [{"name": k, "dims": list(a.shape)}
                                                        for k, a in zip(feeds, arrays)]}).encode()
        self.process.stdin.write(struct.pack("<I", len(header)) + header + b"".join(a.tobytes() for a in arrays))
        self.process.stdin.flush()
        reply, tensors = self._read()
        if "error" in reply:
            raise RuntimeError(f"ONNX Runtime ({model}): {reply['error']}")
        self.last_ms = reply["ms"]
        return tensors

    def session(self, model):
        sessions = self

        class Session:
            last_seconds = None  # the server's inference time of the last run, without the pipe

            def run(self, output_names, feeds):
                assert output_names is None, "only all outputs, in the model's order"
                outputs = sessions.run(model, feeds)
                self.last_seconds = sessions.last_ms / 1e3
                return outputs
        return Session()

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=10)
