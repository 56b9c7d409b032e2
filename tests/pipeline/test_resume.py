"""Acceptance: kill -9 during a run, rerun: finished shards are skipped and the output is byte-identical."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from helpers import tree_digest


def _write_corpus(folder):
    data = folder / "data"
    data.mkdir()
    with open(data / "big.jsonl", "w", encoding="utf-8") as fh:
        for i in range(20000):
            fh.write(
                json.dumps({"id": f"d{i}", "text": f"Record {i}: " + "lorem ipsum dolor sit amet " * 8})
                + "\n"
            )


def _recipe(folder, recipe_file, workdir):
    return recipe_file(
        folder,
        {
            "name": "resume",
            "workdir": workdir,
            "sources": [{"name": "web", "path": "data/*.jsonl", "channel": "en", "id_field": "id"}],
            "curate": {"workers": 1, "shard_size": "256KB", "steps": []},
        },
        name=f"{workdir}.yaml",
    )


def _mixkit(*args):
    return [sys.executable, "-m", "mixkit.cli", *args]


def test_kill_9_then_resume_is_byte_identical(tmp_path, recipe_file):
    _write_corpus(tmp_path)
    killed = _recipe(tmp_path, recipe_file, "killed")
    clean = _recipe(tmp_path, recipe_file, "clean")
    env = {**os.environ, "MIXKIT_SHARD_DELAY": "0.4"}  # test hook: sleep per shard so the kill lands mid-run

    proc = subprocess.Popen(
        _mixkit("curate", str(killed)), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    markers = tmp_path / "killed" / "markers" / "curate"
    deadline = time.time() + 60
    while time.time() < deadline and len(list(markers.glob("*.done"))) < 3:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = {p.name for p in markers.glob("*.done")}
    assert 3 <= len(done_before) < 20, "the kill should land in the middle of the run"

    rerun = subprocess.run(_mixkit("curate", str(killed)), capture_output=True, text=True, check=True)
    logs = sorted((tmp_path / "killed" / "logs").glob("curate-*.log"))
    resumed_log = logs[-1].read_text()
    assert f"{len(done_before)} of 21 shards were already finished and skipped" in resumed_log, resumed_log
    assert rerun.returncode == 0
    subprocess.run(_mixkit("curate", str(clean)), capture_output=True, text=True, check=True)
    assert tree_digest(tmp_path / "killed") == tree_digest(tmp_path / "clean")
    leftovers = [p for p in (tmp_path / "killed").rglob("*.tmp")]
    assert not leftovers
