"""`mixkit pack`, `mixkit mix`, `mixkit inspect stream` and `mixkit validate` on a real two-stage recipe."""

from __future__ import annotations

import orjson
import pytest
from packdata import corpus_texts

from mixkit.cli import main
from mixkit.mix.plan import Plan
from mixkit.pipeline.layout import Workdir

SEQ = 32


def _recipe(tmp_path, make_workdir, recipe_file, domain_ratio=0.10, total=40_000, domain_docs=15):
    docs = {
        "en": {"wiki": corpus_texts("en", 80)},
        "zh": {"zhweb": corpus_texts("zh", 200)},
        "code": {"py": corpus_texts("code", 40)},
        "domain": {"law": corpus_texts("en", domain_docs, 7)},
    }
    mix = {
        "seq_len": SEQ,
        "total_tokens": total,
        "max_epochs": 4,
        "stages": [
            {"name": "warmup", "tokens": "10%", "ratios": {"en": 0.45, "zh": 0.45, "code": 0.10}},
            {
                "name": "main",
                "ratios": {"en": 0.40, "zh": 0.40, "code": 0.20 - domain_ratio, "domain": domain_ratio},
            },
        ],
    }
    recipe = make_workdir(tmp_path, docs, mix=mix, pack={"val_docs": 2})
    data = recipe.model_dump(mode="json", exclude_none=True)
    for s in data["sources"]:  # raw inputs exist (validate checks them); the curated shards are already there
        (tmp_path / s["path"]).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / s["path"]).write_text('{"text": "x"}\n')
    return recipe, recipe_file(tmp_path, data)


def test_pack_mix_inspect(tmp_path, make_workdir, recipe_file, capsys):
    recipe, path = _recipe(tmp_path, make_workdir, recipe_file)
    assert main(["pack", str(path)]) == 0
    assert main(["mix", str(path)]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "stage warmup" in err and "stage main" in err and "planned tokens" in err and "epochs" in err
    wd = Workdir.of(recipe)
    assert "megatron --data-path for stage main: " in err and str(wd.tokens / "domain") in err
    plan = Plan.load(wd.plan)
    assert [s["name"] for s in plan.report["stages"]] == ["warmup", "main"]
    assert plan.report["stages"][0]["planned_tokens"]["domain"] == 0
    assert plan.report["stages"][1]["planned_tokens"]["domain"] > 0
    n = plan.total_sequences
    assert main(["inspect", "stream", str(path), "--positions", f"0:{n}"]) == 0
    rows = [orjson.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["position"] for r in rows] == list(range(n))
    cum = {c: 0 for c in plan.channels}
    for r in rows:
        assert sum(r["tokens"].values()) == SEQ
        for c, t in r["tokens"].items():
            cum[c] += t
        assert r["cumulative"] == cum
        assert all(abs(cum[c] - r["target"][c]) < SEQ for c in plan.channels)
    assert {r["stage"] for r in rows[: plan.report["stages"][0]["sequences"]]} == {"warmup"}
    assert main(["inspect", "stream", str(path), "--positions", "x:y"]) == 1
    assert main(["inspect", "stream", str(path), "--positions", f"{n}:{n + 5}"]) == 1


def test_infeasible_recipe_fails_cleanly(tmp_path, make_workdir, recipe_file, capsys):
    _, path = _recipe(tmp_path, make_workdir, recipe_file, domain_ratio=0.15, domain_docs=6)
    assert main(["pack", str(path)]) == 0
    capsys.readouterr()
    assert main(["mix", str(path)]) == 1
    err = " ".join(capsys.readouterr().err.split())  # rich wraps long lines on narrow terminals
    assert "domain needs" in err and "epochs at 15% of main" in err and "cap 4 -> lower the ratio to" in err
    assert "Traceback" not in err
    assert main(["validate", str(path)]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "domain needs" in err and "raise mix.max_epochs" in err


@pytest.mark.parametrize("bad", [{"english": 1.0}])
def test_validate_unknown_channel(tmp_path, make_workdir, recipe_file, capsys, bad):
    _, path = _recipe(tmp_path, make_workdir, recipe_file)
    import yaml

    data = yaml.safe_load(path.read_text())
    data["mix"]["stages"][0]["ratios"] = bad
    path.write_text(yaml.safe_dump(data))
    assert main(["validate", str(path)]) == 1
    assert "unknown channel(s) ['english']" in " ".join(capsys.readouterr().err.split())
