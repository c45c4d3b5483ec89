r"""Wall-clock timing under the speed protocol: warm-up, repeats, median and IQR."""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch


@dataclass
class TimingBudget:
    r"""How long one measurement runs.

    Args:
        warmup (int, optional): discarded runs before timing. (default: ``10``)
        min_repeats (int, optional): timed runs at least. (default: ``100``)
        min_seconds (float, optional): timed seconds at least. (default: ``1.0``)
        max_seconds (float, optional): stop once this much time is timed, even before
            :obj:`min_repeats` (never before :obj:`floor_repeats`); warm-up then also stops
            at a tenth of it. Keeps near-full-graph queries on large graphs affordable;
            the repeats actually run are recorded. (default: ``60.0``)
        floor_repeats (int, optional): timed runs in any case. (default: ``5``)
    """

    warmup: int = 10
    min_repeats: int = 100
    min_seconds: float = 1.0
    max_seconds: float = 60.0
    floor_repeats: int = 5


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_calls(run: Callable[[int], Any], device: torch.device,
               budget: TimingBudget | None = None) -> dict[str, Any]:
    r"""Times ``run(i)`` for ``i = 0, 1, ...`` after warm-up calls ``run(-1)``,
    ``run(-2)``, ..., synchronising the device before starting and before stopping the
    clock of every call. Two measurements that pick ``pool[i % len(pool)]`` thus time
    the same items from the pool's start, however many warm-up calls each ran.

    Warm-up runs :obj:`budget`'s ``warmup`` calls, or fewer once they took a tenth of
    ``max_seconds``; timing then repeats until both ``min_repeats`` and ``min_seconds``
    are reached, or until the timed total reaches ``max_seconds``, and in any case for
    ``floor_repeats`` calls.

    Args:
        run (callable): the measured call; its argument is the call's number.
        device (torch.device): the device to synchronise (CUDA only; others need none).
        budget (TimingBudget, optional): how long to measure.
            (default: ``TimingBudget()``)

    Returns:
        ``{"median", "iqr", "q25", "q75", "repeats", "warmup", "raw"}``, times in ms
        (see :func:`summarize_ms`); ``warmup`` is the number of warm-up calls run.
    """
    budget = budget or TimingBudget()
    warmup, warm_time = 0, 0.0
    while warmup < budget.warmup and warm_time < budget.max_seconds / 10:
        start = time.perf_counter()
        run(-1 - warmup)
        _synchronize(device)
        warm_time += time.perf_counter() - start
        warmup += 1
    times: list[float] = []
    while True:
        _synchronize(device)
        start = time.perf_counter()
        run(len(times))
        _synchronize(device)
        times.append(time.perf_counter() - start)
        total = sum(times)
        if len(times) < budget.floor_repeats:
            continue
        enough = len(times) >= budget.min_repeats and total >= budget.min_seconds
        if enough or total >= budget.max_seconds:
            break
    return {**summarize_ms([t * 1e3 for t in times]), "warmup": warmup}


def summarize_ms(times_ms: list[float]) -> dict[str, Any]:
    r"""Median, quartiles and interquartile range of per-repeat times in ms.

    Args:
        times_ms (list[float]): at least one time; quartiles are inclusive ones (both
            equal the time when there is only one).

    Returns:
        dict: ``{"median", "iqr", "q25", "q75", "repeats", "raw"}``, ``raw`` holding the
        times rounded to 4 decimals.
    """
    if len(times_ms) > 1:
        q25, _, q75 = statistics.quantiles(times_ms, n=4, method="inclusive")
    else:
        q25 = q75 = times_ms[0]
    return {"median": statistics.median(times_ms), "iqr": q75 - q25, "q25": q25, "q75": q75,
            "repeats": len(times_ms), "raw": [round(t, 4) for t in times_ms]}
