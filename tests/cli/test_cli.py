#!/usr/bin/env python3
"""Command-line contract of `kestrel run/build/inspect`: exit codes, messages, files.
Run with KESTREL_BIN pointing at build/kestrel."""
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import unittest

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import make_models  # noqa: E402

KESTREL = os.environ.get("KESTREL_BIN", str(HERE.parents[1] / "build" / "kestrel"))


def kestrel(*args):
    return subprocess.run([KESTREL, *map(str, args)], capture_output=True, text=True, timeout=300)


class CliTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = pathlib.Path(cls.tmp.name)
        make_models.main(cls.dir)
        cls.model = cls.dir / "conv_relu.onnx"
        cls.io = cls.dir / "conv_relu_io.npz"

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def assert_bad_input(self, result, *needles):
        self.assertEqual(result.returncode, 2, result.stdout + result.stderr)
        for needle in needles:
            self.assertIn(str(needle), result.stderr)


class RunTest(CliTestCase):
    def test_outputs_match_the_reference(self):
        r = kestrel("run", self.model, "--inputs", self.io, "--compare", self.io)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"y: max abs error .* OK")

    def test_outputs_outside_tolerance_exit_1(self):
        r = kestrel("run", self.model, "--inputs", self.io, "--compare", self.dir / "conv_relu_wrong.npz")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("FAIL", r.stdout)

    def test_saved_outputs_load_in_numpy(self):
        out = self.dir / "saved.npz"
        r = kestrel("run", self.model, "--inputs", self.io, "--save-outputs", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        with np.load(out) as saved, np.load(self.io) as ref:
            np.testing.assert_allclose(saved["y"], ref["y"], atol=1e-4)

    def test_input_of_the_wrong_shape(self):
        self.assert_bad_input(kestrel("run", self.model, "--inputs", self.dir / "conv_relu_bad_shape.npz"),
                              "input 'x'", "[1,3,8,8]")

    def test_input_of_an_unsupported_dtype(self):
        self.assert_bad_input(kestrel("run", self.model, "--inputs", self.dir / "conv_relu_float64.npz"),
                              "conv_relu_float64.npz", "float64")

    def test_missing_inputs_file(self):
        self.assert_bad_input(kestrel("run", self.model, "--inputs", self.dir / "nope.npz"), "nope.npz")

    def test_not_an_npz(self):
        self.assert_bad_input(kestrel("run", self.model, "--inputs", self.model), "conv_relu.onnx")

    def test_bad_usage(self):
        self.assertEqual(kestrel("run", self.model).returncode, 2)
        self.assertEqual(kestrel("run", self.model, "--inputs", self.io, "--device", "tpu").returncode, 2)
        self.assertEqual(kestrel("frobnicate").returncode, 2)
        self.assertEqual(kestrel().returncode, 2)


class MalformedModelTest(CliTestCase):
    CASES = {
        "empty.onnx": "empty",
        "garbage.onnx": "not a valid ONNX model",
        "truncated.onnx": "not a valid ONNX model",
        "missing_initializer.onnx": "'w' is not produced",
        "cycle.onnx": "cycle",
        "unknown_op.onnx": "unsupported operator FancyActivation",
        "wrong_input_rank.onnx": "node 'conv' (Conv)",
        "old_opset.onnx": "opset 9",
    }

    def test_each_malformed_model_is_refused_with_its_reason(self):
        for name, reason in self.CASES.items():
            with self.subTest(model=name):
                path = self.dir / name
                self.assert_bad_input(kestrel("run", path, "--inputs", self.io), path, reason)
                self.assert_bad_input(kestrel("build", path, "-o", self.dir / "x.engine"), path, reason)
                self.assertFalse((self.dir / "x.engine").exists())


class EngineFileTest(CliTestCase):
    def build_engine(self):
        engine = self.dir / "conv_relu.engine"
        r = kestrel("build", self.model, "-o", engine)
        self.assertEqual(r.returncode, 0, r.stderr)
        return engine

    def test_engine_round_trip(self):
        r = kestrel("run", self.build_engine(), "--inputs", self.io, "--compare", self.io)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_damaged_engines_are_refused(self):
        data = self.build_engine().read_bytes()
        cases = {
            "truncated": (data[: len(data) // 2], "corrupt"),
            "bit_flipped": (data[:100] + bytes([data[100] ^ 0x10]) + data[101:], "checksum"),
            "other_version": (data[:8] + (99).to_bytes(4, "little") + data[12:], "format version 99"),
            "too_short": (data[:10], "too short"),
        }
        for name, (content, reason) in cases.items():
            with self.subTest(case=name):
                path = self.dir / f"{name}.engine"
                path.write_bytes(content)
                self.assert_bad_input(kestrel("run", path, "--inputs", self.io), path, reason)

    def test_inspect_shows_folded_layers(self):
        r = kestrel("inspect", self.build_engine(), "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        info = json.loads(r.stdout)
        ops = [layer["op"] for layer in info["layers"]]
        self.assertNotIn("BatchNormalization", ops)  # folded into the conv
        self.assertNotIn("Shape", ops)  # shape arithmetic folded to constants
        # The CPU backend also fuses the ReLU (kestrel.FusedConv); the BatchNormalization comes first.
        conv = next(layer for layer in info["layers"] if layer["op"] in ("Conv", "FusedConv"))
        self.assertEqual(conv["fused_from"][0], "bn")
        self.assertEqual(info["inputs"][0]["shape"], [1, 3, 8, 8])
        self.assertGreater(info["weight_bytes"], 0)


class QuantizeTest(CliTestCase):
    def test_quantize_writes_a_qdq_model_and_a_tensorrt_cache(self):
        cache, qdq = self.dir / "q.cache", self.dir / "q.qdq.onnx"
        r = kestrel("quantize", self.model, "--calib-data", self.io, "--calib-algo", "minmax", "--calib-cache", cache,
                    "-o", qdq)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(cache.read_text().splitlines()[0], "TRT-8601-MinMaxCalibration")
        ops = [n.op_type for n in __import__("onnx").load(str(qdq)).graph.node]
        self.assertIn("QuantizeLinear", ops)
        self.assertIn("DequantizeLinear", ops)
        # The cache alone builds an INT8 engine; inspect shows the conv as int8 with its scales.
        engine = self.dir / "q.engine"
        r = kestrel("build", self.model, "--int8", "--calib-cache", cache, "-o", engine)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = kestrel("inspect", engine)
        self.assertRegex(r.stdout, r"int8 .*conv.*per-channel scales")

    def test_unusable_cache_is_refused_naming_the_tensor(self):
        cache = self.dir / "zero.cache"
        cache.write_text("TRT-8601-EntropyCalibration2\nx: 00000000\n")
        r = kestrel("quantize", self.model, "--calib-cache", cache, "-o", self.dir / "never.onnx")
        self.assert_bad_input(r, cache, "'x'")
        self.assertFalse((self.dir / "never.onnx").exists())

    def test_missing_calibration_data(self):
        r = kestrel("quantize", self.model, "--calib-data", self.dir / "nope.npz", "-o", self.dir / "never.onnx")
        self.assert_bad_input(r, "nope.npz")


if __name__ == "__main__":
    unittest.main()
