"""Executors run a function over shards. The local executor is a process pool; a Ray Data executor runs the same
picklable tasks. Results come back in task order, so nothing downstream depends on the number of workers."""

from __future__ import annotations

import logging
import multiprocessing as mp
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from mixkit.logs import console

log = logging.getLogger("mixkit.pipeline")

T = TypeVar("T")
R = TypeVar("R")


def progress_bar(description: str) -> Progress:
    """The progress bar every long loop in mixkit uses (stderr; hidden when not a terminal)."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
        disable=not console.is_terminal,
    )


class Executor(ABC):
    """Maps a picklable function over picklable tasks and returns the results in task order."""

    @abstractmethod
    def map(self, fn: Callable[[T], R], tasks: Sequence[T], description: str = "") -> list[R]:
        """Run ``fn`` on every task; results are ordered like ``tasks`` whatever the completion order."""


class LocalExecutor(Executor):
    """A process pool of ``workers`` processes (``workers=1`` runs in-process, which eases debugging)."""

    def __init__(self, workers: int = 1) -> None:
        self.workers = max(1, int(workers))

    def map(self, fn: Callable[[T], R], tasks: Sequence[T], description: str = "") -> list[R]:
        results: list[Any] = [None] * len(tasks)
        with progress_bar(description or "working") as bar:
            job = bar.add_task(description or "working", total=len(tasks))
            if self.workers == 1 or len(tasks) <= 1:
                for i, task in enumerate(tasks):
                    results[i] = fn(task)
                    bar.advance(job)
                return results
            # fork keeps start-up cheap on Linux; steps hold no global state, so forked workers are clean.
            ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context("spawn")
            with ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx) as pool:
                futures = {pool.submit(fn, task): i for i, task in enumerate(tasks)}
                for fut in as_completed(futures):
                    results[futures[fut]] = fut.result()
                    bar.advance(job)
        return results


def make_executor(kind: str, workers: int) -> Executor:
    """The executor a recipe asks for (``curate.executor``). Only ``local`` exists today; the interface (picklable
    task in, picklable result out, results in task order) is what a Ray Data backend implements."""
    if kind != "local":
        from mixkit.errors import MixkitError

        raise MixkitError(f"executor {kind!r} is not available; use executor: local")
    return LocalExecutor(workers)
