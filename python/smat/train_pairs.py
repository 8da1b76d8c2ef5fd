"""Template/search pair sampling with the official SMAT training settings, as plain numpy.

Every random number of a training step (which pairs, the jitter, the augmentation) comes from
a generator seeded with (seed, chunk of steps), so a step's batch is a pure function of the seed
and the step number: a resumed run sees exactly the batches the uninterrupted run would have,
with no generator state to save. A chunk covers many steps, so the few kilobytes of sample
parameters travel to the GPU in one copy per chunk rather than one per step.

Official settings (experiments/mobilevitv2_track/mobilevitv2_256_128x1_ep300.yaml and the
pytracking-style sampler and processing SMAT inherits):
- pairs from one sequence: a template frame where the target shows, and a search frame after
  it, within MAX_SAMPLE_INTERVAL (200) frames, where the target shows too;
- template: factor 2 around the ground-truth box (no jitter), 128x128;
- search: factor 4 around a jittered box: size * exp(N(0,1) * 0.25) per side, centre moved by
  up to +-0.5 * 3 * sqrt(jittered area) per axis (uniform), 256x256;
- grayscale for both crops with probability 0.05, horizontal flip of the pair with 0.5,
  brightness factor U(0.8, 1.2) per crop.

Beyond them, for the look-alike distractors of `kestrel synth` data (docs/training.md); each
is off at its neutral value, and with all three off the batches are the official sampler's,
bit for bit (their draws come from a second generator, seeded with (seed, chunk, 1)):
- `lookalike_weight`: sequences whose meta_info.ini counts look-alikes are drawn this many
  times as often as the others (1: uniform);
- `template_first_prob`: the template is the sequence's first visible frame with this
  probability (the tracker's template is always frame 1), else uniform as above;
- `paste`: a copy of the target pasted into the search crop as a hard negative
  (train_distractors.py); None or prob 0: none.
"""
from dataclasses import dataclass
from typing import Dict, List, Optional

import numpy as np

from .crops import crop_windows
from .got10k_split import Sequence
from .train_distractors import PasteSettings, sample_paste

TEMPLATE_FACTOR, TEMPLATE_SIZE = 2.0, 128
SEARCH_FACTOR, SEARCH_SIZE = 4.0, 256


@dataclass
class PairSettings:
    max_gap: int = 200
    center_jitter: float = 3.0
    scale_jitter: float = 0.25
    gray_prob: float = 0.05
    pair_flip_prob: float = 0.5
    # The official code also flips each crop on its own (p 0.5), so half of its pairs show the
    # template mirrored against the search region; off by default here (see docs/training.md).
    crop_flip_prob: float = 0.0
    brightness: float = 0.2
    lookalike_weight: float = 1.0
    template_first_prob: float = 0.0
    paste: Optional[PasteSettings] = None


class PairSampler:
    """Draws training pairs from sequences whose frames are stored back to back (sequence s's
    frame f is global frame offsets[s] + f)."""

    def __init__(self, sequences: List[Sequence], settings: PairSettings, seed: int,
                 steps_per_chunk: int = 64) -> None:
        self.settings = settings
        self.seed = seed
        self.steps_per_chunk = steps_per_chunk
        self.boxes = np.concatenate([s.boxes for s in sequences])
        # Frame size per global frame (meta_info.ini; NaN where unknown: no image limit for pastes).
        self.frame_size = np.concatenate([np.tile(np.asarray(s.resolution or (np.nan, np.nan), dtype=np.float64),
                                                  (len(s.frames), 1)) for s in sequences])
        offsets = np.cumsum([0] + [len(s.frames) for s in sequences])

        # Template candidates: visible frames with a visible frame after them within max_gap.
        # For each: the global index and the range of search candidates (positions in `vis`).
        vis, templates, first_search, search_end = [], [], [], []
        seq_start, seq_count = [], []
        for s, seq in enumerate(sequences):
            frames = np.flatnonzero(seq.visible())
            base = len(vis)
            vis.extend(offsets[s] + frames)
            start = len(templates)
            for r in range(len(frames) - 1):
                end = np.searchsorted(frames, frames[r] + settings.max_gap, side="right")
                if end > r + 1:
                    templates.append(offsets[s] + frames[r])
                    first_search.append(base + r + 1)
                    search_end.append(base + end)
            seq_start.append(start)
            seq_count.append(len(templates) - start)
        self.vis = np.asarray(vis, dtype=np.int64)
        self.templates = np.asarray(templates, dtype=np.int64)
        self.first_search = np.asarray(first_search, dtype=np.int64)
        self.search_end = np.asarray(search_end, dtype=np.int64)
        counts = np.asarray(seq_count)
        self.usable = np.flatnonzero(counts > 0)   # sequences with at least one pair
        if len(self.usable) == 0:
            raise ValueError("no sequence has two frames where the target shows: nothing to train on")
        self.seq_start = np.asarray(seq_start)[self.usable]
        self.seq_count = counts[self.usable]
        self.skipped = len(sequences) - len(self.usable)
        look = np.asarray([sequences[i].look_alikes > 0 for i in self.usable])
        weights = np.where(look, settings.lookalike_weight, 1.0)
        self.seq_p = weights / weights.sum()
        self.lookalike_sequences = int(look.sum())

    def chunk(self, index: int, batch: int) -> Dict[str, np.ndarray]:
        """Parameters of steps [index * steps_per_chunk, (index + 1) * steps_per_chunk), each
        array [steps_per_chunk * batch, ...]."""
        rng = np.random.default_rng([self.seed, index])
        st = self.settings
        n = self.steps_per_chunk * batch

        extra = np.random.default_rng([self.seed, index, 1])   # draws beyond the official ones

        # Sequences uniformly (as the official sampler picks a sequence, then frames in it).
        seq = rng.integers(len(self.usable), size=n)
        if st.lookalike_weight != 1.0:
            seq = extra.choice(len(self.usable), size=n, p=self.seq_p)
        t = self.seq_start[seq] + (rng.random(n) * self.seq_count[seq]).astype(np.int64)
        t = np.minimum(t, self.seq_start[seq] + self.seq_count[seq] - 1)
        if st.template_first_prob > 0:
            # seq_start is the first template candidate: the first visible frame with a pair.
            t = np.where(extra.random(n) < st.template_first_prob, self.seq_start[seq], t)
        span = self.search_end[t] - self.first_search[t]
        s_pos = self.first_search[t] + np.minimum((rng.random(n) * span).astype(np.int64), span - 1)
        t_frame, s_frame = self.templates[t], self.vis[s_pos]

        t_box = self.boxes[t_frame]
        s_box = self.boxes[s_frame]
        # Search jitter (the template's jitter factors are 0 in the official settings).
        size = s_box[:, 2:] * np.exp(rng.standard_normal((n, 2)) * st.scale_jitter)
        max_offset = np.sqrt(size[:, 0] * size[:, 1]) * st.center_jitter
        centre = s_box[:, :2] + 0.5 * s_box[:, 2:] + max_offset[:, None] * (rng.random((n, 2)) - 0.5)
        jittered = np.concatenate([centre - 0.5 * size, size], axis=1)

        tx, ty, tside, _ = crop_windows(t_box, TEMPLATE_FACTOR, TEMPLATE_SIZE)
        sx, sy, sside, _ = crop_windows(jittered, SEARCH_FACTOR, SEARCH_SIZE)
        # Ground truth in the search crop, in units of its side: the crop's pixel u covers image
        # x1 + u * side / 256, so this is where the target really lies in the crop.
        gt = np.stack([(s_box[:, 0] - sx) / sside, (s_box[:, 1] - sy) / sside,
                       s_box[:, 2] / sside, s_box[:, 3] / sside], axis=1)

        paste = None
        if st.paste is not None and st.paste.prob > 0:
            fs = self.frame_size[s_frame]
            image = np.stack([-sx / sside, -sy / sside, (fs[:, 0] - sx) / sside, (fs[:, 1] - sy) / sside], 1)
            image = np.where(np.isnan(image), np.array([-np.inf, -np.inf, np.inf, np.inf]), image)
            paste = sample_paste(extra, gt, st.paste, image)   # in the unflipped crop, as it is cut

        pair_flip = rng.random(n) < st.pair_flip_prob
        flip_t = pair_flip ^ (rng.random(n) < st.crop_flip_prob)
        flip_s = pair_flip ^ (rng.random(n) < st.crop_flip_prob)
        gt[flip_s, 0] = 1.0 - gt[flip_s, 0] - gt[flip_s, 2]

        low, high = max(0.0, 1.0 - st.brightness), 1.0 + st.brightness
        arrays = {
            "t_frame": t_frame, "t_x1": tx, "t_y1": ty, "t_side": tside,
            "s_frame": s_frame, "s_x1": sx, "s_y1": sy, "s_side": sside,
            "gt": gt.astype(np.float32),
            "gray": rng.random(n) < st.gray_prob,
            "flip_t": flip_t, "flip_s": flip_s,
            "bright_t": rng.uniform(low, high, n).astype(np.float32),
            "bright_s": rng.uniform(low, high, n).astype(np.float32),
        }
        if paste is not None:
            arrays.update(paste)
        return arrays
