"""The one training loop both model kinds train through: seeded per epoch, checkpointed after each epoch
(a killed run started again with the same recipe resumes there, and ends as an unbroken run would; a
checkpoint of another recipe is not resumed), progress and running losses on stderr."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

CHECKPOINT = "checkpoint.pt"


@dataclass
class Run:
    """A training run as the loop sees it. ``step(batch)`` computes one batch's loss (to backpropagate)
    and the sums it reports, ``{name: (total, count)}``; ``plan`` holds each epoch's batches."""

    modules: dict[str, object]  # checkpointed by name
    params: list  # clipped to ``max_grad_norm``
    optimizer: object
    scheduler: object
    plan: list[list[list[int]]]
    step: Callable[[list[int]], tuple[object, dict[str, tuple[float, int]]]]
    seed: int
    max_grad_norm: float
    device: object
    history: list[dict] = field(default_factory=list)


def train_epochs(run: Run, out: Path, fingerprint: str, log=print) -> list[dict]:
    """Every epoch of ``run.plan`` not already in ``out``'s checkpoint; returns one entry per epoch."""
    import torch

    checkpoint = Path(out) / CHECKPOINT
    start = _resume(run, checkpoint, fingerprint, log)
    for epoch in range(start, len(run.plan)):
        torch.manual_seed(run.seed + epoch)  # dropout draws per epoch: a resumed run trains as an unbroken one
        run.history.append(_epoch(run, epoch))
        Path(out).mkdir(parents=True, exist_ok=True)
        _save(run, checkpoint, fingerprint, epoch + 1)
        log(f"epoch {epoch + 1}: {run.history[-1]}")
    for module in run.modules.values():
        module.eval()
    return run.history


def _epoch(run: Run, epoch: int) -> dict:
    """One pass over the epoch's batches; the mean of each reported loss over the epoch."""
    import torch
    from tqdm.auto import tqdm

    started, sums = time.time(), {}
    bar = tqdm(run.plan[epoch], desc=f"epoch {epoch + 1}/{len(run.plan)}", unit="batch", mininterval=10)
    for batch in bar:
        loss, parts = run.step(batch)
        run.optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(run.params, run.max_grad_norm)
        run.optimizer.step()
        run.scheduler.step()
        for name, (total, count) in parts.items():
            seen = sums.get(name, (0.0, 0))
            sums[name] = (seen[0] + total, seen[1] + count)
        bar.set_postfix({name: f"{t / max(1, c):.3f}" for name, (t, c) in sums.items()})
    bar.close()
    means = {f"{name}_loss": round(t / max(1, c), 4) for name, (t, c) in sums.items()}
    return {"epoch": epoch + 1, **means, "seconds": round(time.time() - started, 1)}


def _resume(run: Run, checkpoint: Path, fingerprint: str, log) -> int:
    """Load the checkpoint of an interrupted run of the same recipe into ``run``; the epoch to start at."""
    import torch

    if not checkpoint.is_file():
        return 0
    state = torch.load(checkpoint, map_location=run.device, weights_only=False)
    if state.get("fingerprint") != fingerprint:
        log(f"{checkpoint} is from another recipe or data: training from the start")
        return 0
    for name, module in run.modules.items():
        module.load_state_dict(state["modules"][name])
    run.optimizer.load_state_dict(state["optimizer"])
    run.scheduler.load_state_dict(state["scheduler"])
    run.history = state["history"]
    log(f"resuming after epoch {state['epoch']}")
    return state["epoch"]


def _save(run: Run, checkpoint: Path, fingerprint: str, epochs_done: int) -> None:
    """The run's state after ``epochs_done`` epochs, written whole (a temporary file renamed over the last)."""
    import torch

    state = {
        "fingerprint": fingerprint,
        "epoch": epochs_done,
        "modules": {name: module.state_dict() for name, module in run.modules.items()},
        "optimizer": run.optimizer.state_dict(),
        "scheduler": run.scheduler.state_dict(),
        "history": run.history,
    }
    tmp = checkpoint.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(checkpoint)
