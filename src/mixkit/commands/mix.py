"""mixkit mix RECIPE"""

from __future__ import annotations

import argparse

HELP = "plan the mixture (token-exact ratios, stages, epoch caps) from packed token counts; print the plan"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("recipe", help="path to the recipe YAML")


def main(args: argparse.Namespace) -> int:
    from mixkit.mix.stage import run_mix
    from mixkit.recipe import load_recipe

    run_mix(load_recipe(args.recipe))
    return 0
