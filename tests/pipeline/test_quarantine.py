"""Acceptance: every bad record ends in quarantine with its reason and file:line, and the ledger balances."""

from __future__ import annotations

import gzip
import json

import orjson
import pytest

from mixkit.pipeline.curate_stage import run_curate
from mixkit.recipe import load_recipe


@pytest.fixture
def messy_corpus(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    good = [json.dumps({"text": f"good document number {i} with some words."}).encode() for i in range(20)]
    big = json.dumps({"text": "x" * (12 * 1024 * 1024)}).encode()
    lines = [
        good[0],
        b'{"text": "unterminated',  # line 2: malformed JSON
        b'{"text": "caf\xe9"}',  # line 3: invalid UTF-8
        b'{"body": "no text field"}',  # line 4: missing field
        b'{"text": 12}',  # line 5: non-string text
        b'{"text": "   "}',  # line 6: empty text
        big,  # line 7: 12 MB record
        b"[1, 2, 3]",  # line 8: valid JSON but not an object
        *good[1:10],  # lines 9-17
    ]
    (data / "mixed.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    # A truncated gzip: the records before the break are read, the break is one quarantine entry.
    full = gzip.compress(b"\n".join(good[10:20]) + b"\n")
    (data / "cut.jsonl.gz").write_bytes(full[: len(full) * 2 // 3])
    return tmp_path


def test_bad_records_are_quarantined_and_ledger_balances(messy_corpus, recipe_file):
    path = recipe_file(
        messy_corpus,
        {
            "name": "messy",
            "workdir": "out",
            "sources": [{"name": "web", "path": "data/*", "channel": "en"}],
            "curate": {"workers": 1, "steps": []},
        },
    )
    ledger = run_curate(load_recipe(path))
    qdir = messy_corpus / "out" / "quarantine"
    entries = [
        orjson.loads(line) for f in sorted(qdir.glob("*.jsonl")) for line in f.read_bytes().splitlines()
    ]
    by_line = {(e["file"], e["line"]): e for e in entries}
    expected = {
        ("data/mixed.jsonl", 2): "malformed_json",
        ("data/mixed.jsonl", 3): "invalid_utf8",
        ("data/mixed.jsonl", 4): "missing_field",
        ("data/mixed.jsonl", 5): "non_string_field",
        ("data/mixed.jsonl", 6): "empty_text",
        ("data/mixed.jsonl", 7): "record_too_large",
        ("data/mixed.jsonl", 8): "malformed_json",
    }
    for key, reason in expected.items():
        assert key in by_line, f"no quarantine entry for {key}"
        assert by_line[key]["reason"] == reason
    assert by_line[("data/mixed.jsonl", 3)]["raw_encoding"] == "base64"
    big = by_line[("data/mixed.jsonl", 7)]
    assert big["raw_bytes"] > 12 * 1024 * 1024 and big["raw_truncated"] is True
    broken = [e for e in entries if e["reason"] == "truncated_or_corrupt_compressed_file"]
    assert len(broken) == 1 and broken[0]["file"] == "data/cut.jsonl.gz"
    assert all({"reason", "file", "line", "raw"} <= set(e) for e in entries)

    kept_from_gz = broken[0]["line"] - 1  # records before the break were read and kept
    assert kept_from_gz >= 1
    assert ledger["quarantined"] == len(entries) == 8
    assert ledger["kept"] == 10 + kept_from_gz
    assert ledger["input"] == ledger["kept"] + ledger["dropped"] + ledger["quarantined"]
    assert ledger["balanced"] is True
    on_disk = orjson.loads((messy_corpus / "out" / "ledger.json").read_bytes())
    assert on_disk["by_reason"]["quarantined"]["malformed_json"] == 2
