"""mixkit train RECIPE [--resume]"""

from __future__ import annotations

import argparse
import logging

HELP = (
    "continual pretraining on the packed mix with per-channel loss (TensorBoard + train/metrics.jsonl), "
    "LR schedules, checkpoints and dynamic reweighting"
)
log = logging.getLogger("mixkit.train")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "recipe", help="path to the recipe YAML (needs a train: section; mix and pack must have run)"
    )
    p.add_argument("--resume", action="store_true", help="continue exactly from the newest checkpoint")


def main(args: argparse.Namespace) -> int:
    from mixkit.logs import add_file_log
    from mixkit.pipeline.layout import Workdir
    from mixkit.recipe import load_recipe
    from mixkit.train.loop import run_train

    recipe = load_recipe(args.recipe, check_inputs=False)
    add_file_log(Workdir.of(recipe).root, "train")
    out = run_train(recipe, resume=args.resume)
    log.info(
        "train %s at step %d; metrics: %s; checkpoint: %s",
        out["status"],
        out["step"],
        out["metrics"],
        out["checkpoint"],
    )
    return 0 if out["status"] == "completed" else 143
