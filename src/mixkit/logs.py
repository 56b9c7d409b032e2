"""Logging setup: rich on the terminal, a plain file per command under ``<workdir>/logs/``."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from rich.console import Console
from rich.logging import RichHandler

console = Console(stderr=True)


def setup_console_logging(verbose: bool = False) -> None:
    """Send mixkit's logs to the terminal (stderr), once per process."""
    root = logging.getLogger("mixkit")
    if any(isinstance(h, RichHandler) for h in root.handlers):
        return
    handler = RichHandler(console=console, show_path=False, rich_tracebacks=False, markup=False)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose or os.environ.get("MIXKIT_DEBUG") else logging.INFO)


def add_file_log(workdir: Path, command: str) -> Path:
    """Also log to ``<workdir>/logs/<command>-<timestamp>.log``; returns the log path."""
    logs = workdir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    path = logs / f"{command}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger("mixkit").addHandler(handler)
    return path
