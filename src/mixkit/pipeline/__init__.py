"""Steps, executors, resume markers and the ledger."""

from mixkit.pipeline.step import Annotator, Filter, ShardContext, Step, StepParams, StepStats

__all__ = ["Annotator", "Filter", "ShardContext", "Step", "StepParams", "StepStats"]
