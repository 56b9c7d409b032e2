"""mixkit dedup RECIPE"""

from __future__ import annotations

import argparse
import logging

HELP = "run the dedup section: exact, MinHash-LSH, line-level dedup and decontamination over curated shards"
log = logging.getLogger("mixkit")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("recipe", help="path to the recipe YAML")
    p.add_argument("--workers", type=int, default=None, help="override dedup.workers / curate.workers")


def main(args: argparse.Namespace) -> int:
    from mixkit.dedup.stage import run_dedup
    from mixkit.logs import add_file_log
    from mixkit.pipeline.layout import Workdir
    from mixkit.recipe import load_recipe

    recipe = load_recipe(args.recipe)
    add_file_log(Workdir.of(recipe).root, "dedup")
    results = run_dedup(recipe, workers=args.workers)
    for channel, st in results.items():
        dropped = {step: sum(r.values()) for step, r in st["dropped"].items()}
        log.info("dedup %s: %d in, %d kept, dropped %s", channel, st["input"], st["kept"], dropped or "none")
    return 0
