"""The training loop shared by teachers, baselines and distillers: early stopping on a
validation metric with best-state restore."""
from __future__ import annotations

import math
import random
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from gkd.errors import GkdError


@dataclass
class History:
    r"""What a training run did.

    Attributes:
        best_epoch (int): the selected epoch (1-based); ties go to the later epoch.
        best_val (float): the validation metric at :attr:`best_epoch`.
        epochs (int): epochs run before early stopping.
        seconds (float): wall-clock training time.
        loss (list[float]): mean training loss per epoch.
        val (list[float]): validation metric per epoch.
        extras (dict): method-specific figures for the run record (JSON values).
    """

    best_epoch: int = 0
    best_val: float = float("-inf")
    epochs: int = 0
    seconds: float = 0.0
    loss: list[float] = field(default_factory=list)
    val: list[float] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)


@contextmanager
def global_rng_preserved() -> Iterator[None]:
    r"""Restores the global random states of torch (CPU, and CUDA where available),
    numpy and Python's :mod:`random` on exit, so that a teacher trained (or rebuilt from
    the cache) inside does not change what the caller draws next."""
    python_state, numpy_state = random.getstate(), np.random.get_state()
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        try:
            yield
        finally:
            random.setstate(python_state)
            np.random.set_state(numpy_state)


def split_batches(nodes: torch.Tensor, batch_size: int) -> tuple[torch.Tensor, ...]:
    r""":obj:`nodes` cut into batches of :obj:`batch_size`, in order; a last batch of one
    node joins the one before when batches are larger (batch norm cannot train on a single
    node).

    Args:
        nodes (Tensor): node indices :math:`(M)`.
        batch_size (int): nodes per batch.

    Returns:
        tuple[Tensor, ...]: the batches.
    """
    batches = nodes.split(batch_size)
    if batch_size > 1 and len(batches) > 1 and batches[-1].numel() == 1:
        batches = (*batches[:-2], torch.cat(batches[-2:]))
    return batches


def optimizer_step(optimizer: torch.optim.Optimizer, loss: torch.Tensor,
                   grad_clip: float | None = None) -> torch.Tensor:
    r"""One update: clears the gradients, backpropagates :obj:`loss`, clips the gradient
    norm of the optimizer's parameters to :obj:`grad_clip` if given, and steps.
    Returns the loss detached, on its device: reading it as a number would make every
    step wait for the GPU, so an epoch's losses are averaged there and :func:`fit` reads
    the mean once per epoch."""
    optimizer.zero_grad()
    loss.backward()
    if grad_clip is not None:
        parameters = [p for group in optimizer.param_groups for p in group["params"]]
        torch.nn.utils.clip_grad_norm_(parameters, grad_clip)
    optimizer.step()
    return loss.detach().reshape(())


def _finite_state(model: torch.nn.Module) -> bool:
    tensors = [t for t in model.state_dict().values() if t.is_floating_point()]
    return not tensors or bool(torch.stack([torch.isfinite(t).all() for t in tensors]).all())


def fit(model: torch.nn.Module, train_epoch: Callable[[], float | torch.Tensor],
        validate: Callable[[], float], *, max_epochs: int, patience: int) -> History:
    r"""Runs :obj:`train_epoch` until the validation metric has not improved for
    :obj:`patience` epochs, then restores the parameters of the best epoch.

    Args:
        model (torch.nn.Module): the model being trained; switched to train mode before
            each epoch and to eval mode (under ``torch.no_grad``) for validation.
        train_epoch (callable): one epoch of updates; returns its mean loss (a float or a
            one-element tensor).
        validate (callable): returns the validation metric (higher is better).
        max_epochs (int): the epoch budget.
        patience (int): epochs without improvement before stopping.

    Training stops with a warning at the first epoch whose loss, or whose parameters and
    buffers after its updates, are NaN or infinite (the model has diverged), keeping the
    best epoch before it.

    Raises:
        GkdError: :obj:`max_epochs` or :obj:`patience` below 1, or a loss or parameters
            that are not finite after the first epoch (nothing to keep: a learning rate
            far too high, or inputs that are not finite).
    """
    if max_epochs < 1 or patience < 1:
        raise GkdError(f"training needs max_epochs and patience of at least 1; got "
                       f"{max_epochs} and {patience}")
    history = History()
    best_state = None
    start = time.perf_counter()
    for epoch in range(1, max_epochs + 1):
        model.train()
        loss = float(train_epoch())
        # The loss is the one before the epoch's last update, which may itself diverge.
        problem = (f"the training loss is {loss}" if not math.isfinite(loss) else
                   None if _finite_state(model) else "the parameters are no longer finite")
        if problem is not None:
            if best_state is None:
                raise GkdError(f"{problem} at epoch {epoch}, before any epoch to keep: lower "
                               f"the learning rate, or check the inputs and options for "
                               f"infinite values")
            warnings.warn(f"{problem} at epoch {epoch}; training stops and keeps epoch "
                          f"{history.best_epoch}", stacklevel=2)
            break
        history.loss.append(loss)
        model.eval()
        with torch.no_grad():
            val = float(validate())
        if not math.isfinite(val):
            raise GkdError(f"the validation score of epoch {epoch} is {val}: the model can "
                           f"be selected on finite scores only")
        history.val.append(val)
        history.epochs = epoch
        if val >= history.best_val:
            history.best_epoch, history.best_val = epoch, val
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        elif epoch - history.best_epoch >= patience:
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    history.seconds = time.perf_counter() - start
    return history
