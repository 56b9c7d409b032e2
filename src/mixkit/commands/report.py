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
    from mixkit.recipe import load_recipe
    from mixkit.report.html import write_report

    # Inputs may have moved since the run; the report still renders and the manifest says what it found.
    recipe = load_recipe(args.recipe, check_inputs=False)
    path = write_report(recipe, args.output)
    print(path)
    return 0
