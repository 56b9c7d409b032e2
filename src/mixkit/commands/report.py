"""mixkit report RECIPE"""

from __future__ import annotations

import argparse
import logging

HELP = "write the run's self-contained HTML report (<workdir>/report.html): funnel, dedup, mix, loss curves, manifest"
log = logging.getLogger("mixkit")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("recipe", help="path to the recipe YAML")
    p.add_argument(
        "-o", "--output", metavar="PATH", help="write the report here instead of <workdir>/report.html"
    )


def main(args: argparse.Namespace) -> int:
    from mixkit.errors import RecipeError
    from mixkit.recipe import validate_recipe
    from mixkit.report.html import write_report

    # A report describes a run that already happened: inputs may have moved and a step may no longer load, so
    # only a recipe that cannot be read at all stops it; other problems are logged and the report still renders.
    recipe, issues = validate_recipe(args.recipe, check_inputs=False)
    if recipe is None:
        raise RecipeError(issues, args.recipe)
    for issue in issues:
        log.warning("recipe: %s (the report is written anyway)", issue)
    path = write_report(recipe, args.output)
    print(path)
    return 0
