"""mixkit inspect stream RECIPE --positions A:B"""

from __future__ import annotations

import argparse
import sys

HELP = "debugging views: `inspect stream` prints per packed sequence its channel token counts as JSONL"


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="what", metavar="WHAT", required=True)
    s = sub.add_parser("stream", help="channel token counts per packed sequence (JSONL on stdout)")
    s.add_argument("recipe", help="path to the recipe YAML")
    s.add_argument("--positions", default="0:16", help="global sequence positions A:B (B exclusive)")
    s.add_argument("--plan", default=None, help="a plan JSON to use instead of <workdir>/plan.json")


def _range(text: str) -> tuple[int, int]:
    from mixkit.errors import MixkitError

    try:
        a, _, b = text.partition(":")
        return int(a or 0), int(b) if b else int(a) + 1
    except ValueError:
        raise MixkitError(f"--positions {text!r}: use A:B with integers, e.g. 0:100") from None


def main(args: argparse.Namespace) -> int:
    from mixkit.mix.plan import Plan
    from mixkit.mix.stream import describe
    from mixkit.recipe import load_recipe
    from mixkit.utils import dumps

    recipe = load_recipe(args.recipe, check_inputs=False)
    plan = Plan.load(args.plan) if args.plan else Plan.load_recipe(recipe)
    start, stop = _range(args.positions)
    if not 0 <= start < plan.total_sequences or stop <= start:
        from mixkit.errors import MixkitError

        raise MixkitError(
            f"--positions {args.positions}: the plan has positions 0..{plan.total_sequences - 1}; "
            "give A:B with 0 <= A < B"
        )
    out = sys.stdout.buffer
    step = 4096
    for a in range(start, min(stop, plan.total_sequences), step):
        for row in describe(plan, None, a, min(a + step, stop)):
            out.write(dumps(row) + b"\n")
    out.flush()
    return 0
