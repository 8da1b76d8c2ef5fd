"""Reading a GOT-10k-format split (ours from `kestrel synth`, or a real one): annotations, and
frames decoded with a thread pool.

JPEG decoding releases the GIL in both OpenCV and PIL, so threads scale over the cores without
the start-up cost and memory copies of worker processes. OpenCV is used where installed (the
GPU machine has opencv-python-headless), PIL otherwise (Debian's python3 here).
"""
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Iterator, List, Optional, Tuple

import numpy as np

try:
    import cv2
    cv2.setNumThreads(1)  # the pool supplies the parallelism
except ImportError:  # pragma: no cover - depends on the machine
    cv2 = None

_RESOLUTION = re.compile(r"^\s*resolution\s*:\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)\s*$")
_LOOK_ALIKES = re.compile(r"^\s*look_alikes\s*:\s*(\d+)\s*$")


@dataclass
class Sequence:
    name: str
    frames: List[str]          # JPEG paths, in order
    boxes: np.ndarray          # [F,4] float64 x, y, w, h
    absence: np.ndarray        # [F] int
    cover: np.ndarray          # [F] int (0..8)
    resolution: Optional[Tuple[int, int]]  # (width, height) from meta_info.ini, if given
    look_alikes: int = 0       # `kestrel synth`'s meta_info.ini "look_alikes: N" (0 if not given)

    def visible(self) -> np.ndarray:
        """Frames where the target shows (the official GOT-10k loader's test): not absent,
        cover above 0, a box with area."""
        return ((self.absence == 0) & (self.cover > 0)
                & (self.boxes[:, 2] > 0) & (self.boxes[:, 3] > 0))


def _read_labels(path: str, count: int, default: int) -> np.ndarray:
    if not os.path.exists(path):
        return np.full(count, default, dtype=np.int64)
    with open(path) as f:
        values = [int(float(v)) for v in f.read().split()]
    if len(values) != count:
        raise ValueError(f"{path}: {len(values)} labels for {count} frames")
    return np.asarray(values, dtype=np.int64)


def _read_meta(path: str) -> Tuple[Optional[Tuple[int, int]], int]:
    """(width, height) and the number of look-alike distractors from meta_info.ini; None and
    0 where the file or the line is missing (a real GOT-10k split has no look_alikes line)."""
    resolution, look_alikes = None, 0
    if not os.path.exists(path):
        return resolution, look_alikes
    with open(path) as f:
        for line in f:
            m = _RESOLUTION.match(line)
            if m:
                resolution = int(m.group(1)), int(m.group(2))
            m = _LOOK_ALIKES.match(line)
            if m:
                look_alikes = int(m.group(1))
    return resolution, look_alikes


def read_split(split_dir: str, limit: Optional[int] = None) -> List[Sequence]:
    """The sequences named in split_dir/list.txt (the first `limit` of them), with every frame
    annotated (a test split, which has only the first box, is refused)."""
    list_path = os.path.join(split_dir, "list.txt")
    if not os.path.exists(list_path):
        raise FileNotFoundError(f"{list_path}: missing (is {split_dir} a GOT-10k split folder?)")
    with open(list_path) as f:
        names = [line.strip() for line in f if line.strip()]
    if limit is not None:
        names = names[:limit]
    sequences = []
    for name in names:
        folder = os.path.join(split_dir, name)
        frames = sorted(os.path.join(folder, n) for n in os.listdir(folder)
                        if n.lower().endswith((".jpg", ".jpeg")))
        boxes = np.loadtxt(os.path.join(folder, "groundtruth.txt"), delimiter=",",
                           ndmin=2, dtype=np.float64)
        if len(boxes) != len(frames) or len(frames) == 0:
            raise ValueError(f"{folder}: {len(boxes)} boxes for {len(frames)} frames "
                             "(a test split has only the first box and cannot be used)")
        absence = _read_labels(os.path.join(folder, "absence.label"), len(frames), 0)
        cover = _read_labels(os.path.join(folder, "cover.label"), len(frames), 8)
        resolution, look_alikes = _read_meta(os.path.join(folder, "meta_info.ini"))
        sequences.append(Sequence(name, frames, boxes, absence, cover, resolution, look_alikes))
    if not sequences:
        raise ValueError(f"{list_path} names no sequences")
    return sequences


def decode_rgb(path: str) -> np.ndarray:
    """[H,W,3] uint8 RGB."""
    if cv2 is not None:
        image = cv2.imread(path, cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"{path}: cannot decode")
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    from PIL import Image
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def decode_blocks(paths: List[str], workers: int, block: int = 256) -> Iterator[Tuple[int, np.ndarray]]:
    """Yields (first index, [n,H,W,3] uint8) blocks of the frames in order; all frames must
    have one size. Decoding of the next block overlaps the caller's use of this one."""
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        pending = None
        for start in range(0, len(paths), block):
            chunk = paths[start:start + block]
            future = [pool.submit(decode_rgb, p) for p in chunk]
            if pending is not None:
                yield _stack(*pending)
            pending = (start, future)
        if pending is not None:
            yield _stack(*pending)


def _stack(start: int, futures) -> Tuple[int, np.ndarray]:
    images = [f.result() for f in futures]
    shape = images[0].shape
    for image in images:
        if image.shape != shape:
            raise ValueError(f"frames of different sizes ({shape[:2]} and {image.shape[:2]}): "
                             "training keeps one frame size in memory")
    return start, np.stack(images)


def map_threaded(function: Callable, items: list, workers: int) -> list:
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(function, items))
