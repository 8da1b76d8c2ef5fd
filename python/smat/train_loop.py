"""The training loop: steps until the step or time budget is spent (or a signal asks to stop),
a progress line every N steps, a checkpoint every few minutes."""
import math
import time

import torch

from .train_loss import smat_loss
from .train_step import forward_maps, make_batch

LOG_KEYS = ("loss", "focal", "l1", "giou", "iou")


class NonFiniteLoss(RuntimeError):
    pass


class Trainer:
    def __init__(self, model, optimizer, scaler, frames, sampler, batch, amp_dtype, args, device):
        self.model, self.optimizer, self.scaler = model, optimizer, scaler
        self.frames, self.sampler, self.batch = frames, sampler, batch
        self.amp_dtype, self.args, self.device = amp_dtype, args, device
        self.params = list(model.parameters())
        self.chunk_index, self.chunk = -1, None
        self.forward = forward_maps
        if args.compile and hasattr(torch, "compile"):
            self.forward = torch.compile(forward_maps)

    def _step(self, step: int) -> torch.Tensor:
        index, row = divmod(step, self.sampler.steps_per_chunk)
        if index != self.chunk_index:
            arrays = self.sampler.chunk(index, self.batch)
            self.chunk = {k: torch.as_tensor(v, device=self.device) for k, v in arrays.items()}
            self.chunk_index = index
        rows = slice(row * self.batch, (row + 1) * self.batch)
        template, search, gt, neg_weight = make_batch(self.frames, self.chunk, rows,
                                                      self.args.distractor_neg_weight)
        score, size, offset = self.forward(self.model, template, search, self.amp_dtype)
        loss, parts = smat_loss(score, size, offset, gt, self.args.box_at, neg_weight)
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(self.optimizer)
        else:
            loss.backward()
        if self.args.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.params, self.args.grad_clip)
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        return torch.stack([parts[k] for k in LOG_KEYS])

    def _guarded_step(self, step: int, first: bool) -> torch.Tensor:
        try:
            return self._step(step)
        except Exception as exc:  # a torch.compile failure shows on the first step: go eager
            if self.forward is forward_maps or not first:
                raise
            print(f"warning: torch.compile failed ({type(exc).__name__}: {exc}); running eager", flush=True)
            self.forward = forward_maps
            return self._step(step)

    def run(self, progress, schedule, log, stop, save) -> dict:
        """Trains from progress['step']; returns the final step, lr and seconds of this run.
        save() is called every --save-every-minutes with progress updated."""
        args, batch = self.args, self.batch
        step, base_seconds = progress["step"], progress["train_seconds"]
        first_step = step
        sums = torch.zeros(len(LOG_KEYS), device=self.device)
        window_steps, window_start = 0, time.time()
        last_save = loop_start = time.time()
        lr = 0.0
        while True:
            p = schedule.progress(step, base_seconds + time.time() - loop_start)
            if p >= 1.0 or stop["signal"] is not None:
                break
            lr = schedule.lr(step, p)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            sums += self._guarded_step(step, step == first_step)
            step += 1
            window_steps += 1
            if step % args.print_every == 0 or step == args.steps:
                values = (sums / window_steps).tolist()     # the one host sync per window
                now = time.time()
                entry = dict(zip(LOG_KEYS, (round(v, 5) for v in values)))
                entry.update(step=step, lr=lr, progress=round(p, 4),
                             pairs_per_s=round(window_steps * batch / (now - window_start), 1),
                             seconds=round(base_seconds + now - loop_start, 1))
                log["history"].append(entry)
                print(f"step {step} ({100 * p:.0f}%) lr {lr:.2e} loss {values[0]:.4f} (focal {values[1]:.4f} "
                      f"l1 {values[2]:.4f} giou {values[3]:.4f}) iou {values[4]:.3f} | "
                      f"{entry['pairs_per_s']:.0f} pairs/s | {entry['seconds']:.0f} s", flush=True)
                if not all(math.isfinite(v) for v in values):
                    raise NonFiniteLoss(f"the loss is not finite at step {step}")
                sums.zero_()
                window_steps, window_start = 0, time.time()
            if time.time() - last_save > 60.0 * args.save_every_minutes:
                progress.update(step=step, train_seconds=base_seconds + time.time() - loop_start)
                save()
                last_save = time.time()
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        seconds = time.time() - loop_start
        progress.update(step=step, train_seconds=round(base_seconds + seconds, 2), pairs_seen=step * batch)
        return {"step": step, "lr": lr, "train_seconds": round(base_seconds + seconds, 1),
                "this_run_steps": step - first_step, "this_run_seconds": round(seconds, 1),
                "pairs_per_s": round((step - first_step) * batch / max(seconds, 1e-9), 1),
                "stopped_by_signal": stop["signal"]}
