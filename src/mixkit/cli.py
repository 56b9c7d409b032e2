"""The one binary: ``mixkit <command>``. Each command lives in ``mixkit.commands.<module>`` and declares
``HELP``, ``add_arguments(parser)`` and ``main(args) -> int``; heavy imports stay inside ``main``."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from mixkit import __version__
from mixkit.errors import MixkitError

# command name -> module under mixkit.commands. Order is the order `mixkit --help` lists them.
COMMANDS: dict[str, str] = {
    "run": "run",
    "validate": "validate",
    "curate": "curate",
    "data": "data",
    "pack": "pack",
    "mix": "mix",
    "inspect": "inspect",
    "dedup": "dedup",
    "report": "report",
    "plan": "plan",
    "train": "train",
    "train-classifier": "train_classifier",
}

log = logging.getLogger("mixkit")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mixkit",
        description="The data side of continual pretraining and SFT: curate, dedup, mix, pack, train, report.",
    )
    parser.add_argument("--version", action="version", version=f"mixkit {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging on the terminal")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        try:
            module = importlib.import_module(f"mixkit.commands.{module_name}")
        except ImportError as exc:  # a broken command must not take the whole CLI down
            p = sub.add_parser(name, help=f"(unavailable: {exc})")
            p.set_defaults(_main=_unavailable(name, exc))
            continue
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_main=module.main)
    return parser


def _unavailable(name: str, exc: Exception):
    def run(args: argparse.Namespace) -> int:
        raise MixkitError(
            f"command '{name}' cannot load: {exc}. Reinstall mixkit with its extras: pip install -e '.[all]'"
        )

    return run


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from mixkit.logs import setup_console_logging

    setup_console_logging(verbose=args.verbose)
    if not getattr(args, "_main", None):
        parser.print_help()
        return 2
    try:
        return int(args._main(args) or 0)
    except MixkitError as exc:
        log.error("%s", exc)
        return 1
    except KeyboardInterrupt:
        log.error("interrupted; rerun the same command to resume (finished shards are kept)")
        return 130


if __name__ == "__main__":
    sys.exit(main())
