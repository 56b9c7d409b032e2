"""mixkit curate RECIPE"""

from __future__ import annotations

import argparse

HELP = "run the curate stage: read every source in shards, run the steps, write curated shards and the ledger"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("recipe", help="path to the recipe YAML")
    p.add_argument("--workers", type=int, default=None, help="override curate.workers")


def main(args: argparse.Namespace) -> int:
    from mixkit.logs import add_file_log
    from mixkit.pipeline.curate_stage import run_curate
    from mixkit.pipeline.layout import Workdir
    from mixkit.recipe import load_recipe

    recipe = load_recipe(args.recipe)
    add_file_log(Workdir.of(recipe).root, "curate")
    run_curate(recipe, workers=args.workers)
    return 0
