"""mixkit data quickstart [--out DIR]"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "build an embedded example corpus (offline, deterministic, cached)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", choices=["quickstart"], help="which example corpus")
    p.add_argument(
        "--out", default=None, help="output folder (default: examples/quickstart next to the recipe)"
    )
    p.add_argument("--force", action="store_true", help="rebuild even if an up-to-date build exists")


def main(args: argparse.Namespace) -> int:
    from mixkit.examples.quickstart import build_quickstart

    out = Path(args.out) if args.out else Path("examples/quickstart")
    build_quickstart(out, force=args.force)
    return 0
