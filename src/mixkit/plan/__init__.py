"""Calculators for planning a (continual) pretraining run: parameters, memory per GPU, FLOPs, time, tokens."""

from mixkit.plan.arch import Architecture, PlanError
from mixkit.plan.estimate import Plan, TrainingSetup, estimate

__all__ = ["Architecture", "Plan", "PlanError", "TrainingSetup", "estimate"]
