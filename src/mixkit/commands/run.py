"""mixkit run RECIPE"""

from __future__ import annotations

import argparse

HELP = (
    "run every stage the recipe declares, in order, skipping stages whose inputs and settings did not change"
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("recipe", help="path to the recipe YAML")
    p.add_argument("--workers", type=int, default=None, help="override curate.workers")
    p.add_argument("--force", action="store_true", help="rerun every stage even if its fingerprint matches")


def main(args: argparse.Namespace) -> int:
    from mixkit.logs import console
    from mixkit.pipeline.run import run_recipe

    outcome = run_recipe(args.recipe, workers=args.workers, force=args.force)
    if "report" in outcome:
        console.print(f"report: {outcome['report']}", soft_wrap=True)
    # 143 = terminated: a stage stopped early on SIGTERM and saved its state; rerunning resumes it
    return 143 if "interrupted" in outcome.values() else 0
