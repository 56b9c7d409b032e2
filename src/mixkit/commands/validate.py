"""mixkit validate RECIPE"""

from __future__ import annotations

import argparse
import logging

HELP = "check a recipe and report every problem at once (key paths, did-you-mean, missing inputs)"
log = logging.getLogger("mixkit")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("recipe", help="path to the recipe YAML")


def main(args: argparse.Namespace) -> int:
    from mixkit.recipe import validate_recipe

    recipe, issues = validate_recipe(args.recipe)
    if issues:
        log.error("%s: %d problem(s)", args.recipe, len(issues))
        for issue in issues:
            log.error("  - %s", issue)
        return 1
    log.info(
        "%s: ok (%d sources, channels: %s)", args.recipe, len(recipe.sources), ", ".join(recipe.channels)
    )
    return 0
