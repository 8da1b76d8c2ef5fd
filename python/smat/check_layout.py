"""Checks that build_smat() has the official checkpoint layout, and that official-style
checkpoint files load (and foreign ones are refused with a clear message).

    python3 python/smat/check_layout.py KEYS_FILE

KEYS_FILE lists an official checkpoint's 'net' entries, one "name  [shape]  dtype" a
line ('#' lines are comments): the project's smat_checkpoint_keys.txt.
"""
import argparse
import os
import re
import sys
import tempfile
import types

import torch

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from smat.checkpoint import CheckpointError, load_checkpoint  # noqa: E402
from smat.model import build_smat  # noqa: E402

_LINE = re.compile(r"^(\S+)\s+\[([^\]]*)\]\s+(\S+)$")


def read_layout(path):
    layout = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            m = _LINE.match(line)
            if not m:
                raise ValueError(f"{path}: cannot parse line: {line!r}")
            shape = [int(d) for d in m.group(2).split(",") if d.strip()]
            layout[m.group(1)] = (shape, getattr(torch, m.group(3)))
    return layout


def synthetic_state(layout, seed=0):
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for name, (shape, dtype) in layout.items():
        if dtype.is_floating_point:
            t = torch.rand(shape, generator=gen, dtype=dtype)
        else:
            t = torch.randint(0, 1000, shape, generator=gen, dtype=dtype)
        state[name] = t
    return state


def _save_like_official(path, state):
    # The official trainer also pickles its settings object, whose class lives in the
    # official repository's `lib` package; fake that package while saving, then drop it
    # so that loading meets an unimportable class, as it would outside that repository.
    names = ["lib", "lib.train", "lib.train.admin", "lib.train.admin.settings"]
    if any(n in sys.modules for n in names):
        raise RuntimeError("a module named 'lib' is already loaded; cannot fake it")
    for n in names:
        sys.modules[n] = types.ModuleType(n)
    try:
        settings_cls = type("Settings", (), {"__module__": names[-1]})
        sys.modules[names[-1]].Settings = settings_cls
        settings = settings_cls()
        settings.project_path = "train/mobilevitv2_track/mobilevitv2_256_128x1_ep300"
        torch.save({"epoch": 300, "net": state, "settings": settings}, path)
    finally:
        for n in names:
            del sys.modules[n]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="check SMAT's checkpoint layout")
    parser.add_argument("keys_file")
    args = parser.parse_args(argv)
    failures = []

    layout = read_layout(args.keys_file)
    model = build_smat()
    own = {k: (list(v.shape), v.dtype) for k, v in model.state_dict().items()}
    if list(own) != list(layout):
        failures.append("state dict names or order differ from the keys file: "
                        f"missing {sorted(set(layout) - set(own))[:5]}, "
                        f"extra {sorted(set(own) - set(layout))[:5]}")
    diffs = [k for k in layout if k in own and own[k] != layout[k]]
    if diffs:
        failures.append(f"{len(diffs)} shape/dtype differences, e.g. {diffs[:5]}")
    print(f"layout: {len(own)} entries in the model, {len(layout)} in {args.keys_file}, "
          f"{len(diffs)} shape/dtype differences")

    state = synthetic_state(layout)
    model.load_state_dict(state, strict=True)
    print("strict load of a state dict built from the keys file: ok")

    with tempfile.TemporaryDirectory() as tmp:
        good = os.path.join(tmp, "official_like.pth.tar")
        _save_like_official(good, state)
        fresh = build_smat()
        load_checkpoint(fresh, good)
        same = all(torch.equal(fresh.state_dict()[k], v) for k, v in state.items())
        if not same:
            failures.append("checkpoint round trip changed values")
        print(f"official-style checkpoint (with an unimportable settings class): loaded, "
              f"values {'identical' if same else 'DIFFERENT'}")

        bad_state = dict(state)
        bad_state.pop("box_head.conv4_size.bias")
        bad_state["backbone.conv_1.block.conv.weight"] = torch.zeros(16, 3, 3, 3)
        bad = os.path.join(tmp, "bad.pth.tar")
        torch.save({"net": bad_state}, bad)
        for path, what in ((bad, "mismatched layout"), (os.path.join(tmp, "none.pth"), "missing file")):
            try:
                load_checkpoint(build_smat(), path)
                failures.append(f"{what} was accepted")
            except CheckpointError as exc:
                print(f"{what} refused: {str(exc).splitlines()[0]}")

    for f in failures:
        print(f"FAIL: {f}", file=sys.stderr)
    print("all checks passed" if not failures else f"{len(failures)} check(s) failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
