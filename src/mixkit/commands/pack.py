"""mixkit pack RECIPE"""

from __future__ import annotations

import argparse

HELP = "tokenize the curated documents into Megatron .bin/.idx token shards per channel (resumable)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("recipe", help="path to the recipe YAML")
    p.add_argument("--force", action="store_true", help="retokenize channels that are up to date")
    p.add_argument("--workers", type=int, default=None, help="tokenizer threads (default: pack.workers)")


def main(args: argparse.Namespace) -> int:
    from mixkit.pack.stage import run_pack, set_threads
    from mixkit.recipe import load_recipe

    if args.workers:
        set_threads(args.workers)
    run_pack(load_recipe(args.recipe), force=args.force)
    return 0
