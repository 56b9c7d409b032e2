"""The step abstraction: a generator of documents in, a generator of documents out.

A ``Filter`` only decides keep-or-drop (returning a drop reason), an ``Annotator`` only writes tags into
``doc.meta`` ("tag, then select": thresholds can change without recomputing scores). The executor owns reading,
writing, stats, timing and resume; steps hold their parameters and nothing global, so they pickle to worker
processes and Ray actors unchanged.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from mixkit.records import Document


class StepParams(BaseModel):
    """Base of every step's parameter model: unknown keys are an error, so a typo in a recipe fails loudly.

    ``channels`` is shared by every filter and annotator: a step limited to some channels passes the documents of
    the others through untouched (e.g. prose heuristics on ``en``/``zh`` but not on ``code``).
    """

    model_config = ConfigDict(extra="forbid")

    channels: list[str] | None = Field(
        default=None, description="apply only to documents of these channels; others pass through unchanged"
    )


@dataclass
class StepStats:
    """Counters one step accumulates over one shard; merged across shards by the ledger."""

    docs_in: int = 0
    docs_out: int = 0
    seconds: float = 0.0
    dropped: Counter = field(default_factory=Counter)  # reason -> docs
    counters: Counter = field(default_factory=Counter)  # free-form, e.g. pii type -> redactions

    def to_dict(self) -> dict[str, Any]:
        return {
            "docs_in": self.docs_in,
            "docs_out": self.docs_out,
            "seconds": round(self.seconds, 6),
            "dropped": dict(sorted(self.dropped.items())),
            "counters": dict(sorted(self.counters.items())),
        }


class ShardContext:
    """What a step sees of the shard it runs on: seed, where dropped documents go, and its counters."""

    def __init__(self, seed: int = 0, shard_id: str = "", workdir: str | None = None) -> None:
        self.seed = seed
        self.shard_id = shard_id
        self.workdir = workdir
        self.stats: dict[str, StepStats] = defaultdict(StepStats)
        self.dropped_docs: list[
            tuple[str, str, Document]
        ] = []  # (step, reason, doc), written by the executor
        self.keep_dropped = True

    def drop(self, doc: Document, step: str, reason: str) -> None:
        """Record that ``step`` dropped ``doc`` for ``reason`` (the ledger's 'dropped' bucket)."""
        self.stats[step].dropped[reason] += 1
        if self.keep_dropped:
            self.dropped_docs.append((step, reason, doc))

    def count(self, step: str, key: str, n: int = 1) -> None:
        """Add ``n`` to a free-form counter of ``step`` (shown in the ledger stats)."""
        self.stats[step].counters[key] += n


class Step(ABC):
    """One named, parameterised transformation of a document stream.

    Subclasses set ``name`` (the registry name) and a nested ``Params`` model, and implement ``run``.
    ``setup`` runs once per worker before the first shard (load a model, compile patterns).
    """

    name: ClassVar[str] = ""
    Params: ClassVar[type[StepParams]] = StepParams

    def __init__(self, params: StepParams | dict[str, Any] | None = None) -> None:
        if params is None:
            params = self.Params()
        elif isinstance(params, dict):
            params = self.Params(**params)
        self.params = params
        self._ready = False

    def setup(self) -> None:  # noqa: B027 - optional hook, empty by default
        """Prepare per-process state (models, compiled patterns). Called lazily, once per process."""

    def ensure_setup(self) -> None:
        if not self._ready:
            self.setup()
            self._ready = True

    def __getstate__(self) -> dict[str, Any]:
        # Only parameters travel to workers; per-process state is rebuilt by setup() there.
        return {"params": self.params, "name": self.name}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.params = state["params"]
        self.name = state["name"]
        self._ready = False

    @abstractmethod
    def run(self, docs: Iterable[Document], ctx: ShardContext) -> Iterator[Document]:
        """Consume ``docs`` and yield the documents that go on; report drops with ``ctx.drop``."""


class Filter(Step):
    """A step that keeps or drops each document. ``keep`` returns True, or a drop reason (str); False means
    a drop with the step's name as reason."""

    @abstractmethod
    def keep(self, doc: Document, ctx: ShardContext) -> bool | str:
        """Decide whether ``doc`` stays. Return True to keep it, or a short snake_case reason to drop it."""

    def run(self, docs: Iterable[Document], ctx: ShardContext) -> Iterator[Document]:
        self.ensure_setup()
        only = set(self.params.channels) if self.params.channels else None
        for doc in docs:
            if only is not None and doc.channel not in only:
                yield doc
                continue
            verdict = self.keep(doc, ctx)
            if verdict is True:
                yield doc
            else:
                ctx.drop(doc, self.name, verdict if isinstance(verdict, str) and verdict else self.name)


class Annotator(Step):
    """A step that writes tags or scores into ``doc.meta`` (or rewrites ``doc.text``) and drops nothing."""

    @abstractmethod
    def annotate(self, doc: Document, ctx: ShardContext) -> None:
        """Update ``doc`` in place."""

    def run(self, docs: Iterable[Document], ctx: ShardContext) -> Iterator[Document]:
        self.ensure_setup()
        only = set(self.params.channels) if self.params.channels else None
        for doc in docs:
            if only is None or doc.channel in only:
                self.annotate(doc, ctx)
            yield doc


def build_step(kind: str, name: str, params: dict[str, Any] | None) -> Step:
    """Instantiate a registered step from its recipe name and parameter dict (validated by its Params model)."""
    from mixkit import registry

    cls = registry.get(kind, name)
    step = cls(cls.Params(**(params or {})))
    if not step.name:
        step.name = name
    return step
