"""configs/mimic_fusion.yaml on the real MIMIC-IV demo: every fusion strategy and unimodal
baseline of ``benchmarks/mimic_fusion.py`` trains and is evaluated; a field absent from a whole
batch (the demo has no ECG/CXR) is not encoded and changes nothing."""

from __future__ import annotations

import importlib.util
import math
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest
import torch
from torch import nn

from climb.experiment.build import ClimbModel, build_model, build_tasks
from climb.experiment.config import load_config
from climb.models.fusion import build_fusion, fusion_names
from climb.prepare.pipeline import prepare
from tests.conftest import REPO, shared_fixture

torch.set_num_threads(1)


def _bench() -> ModuleType:
    path = REPO / "benchmarks" / "mimic_fusion.py"
    spec = importlib.util.spec_from_file_location("bench_mimic_fusion", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = shared_fixture("mimic_iv_demo")
    root = tmp_path_factory.mktemp("mimic_demo")
    (root / "raw").mkdir()
    os.symlink(src, root / "raw" / "mimic_iv")
    prepare("mimic_iv", root)
    return root


def test_unimodal_override_syntax_of_the_config() -> None:
    """The syntax the config's comments give for the baselines sets every task's fields."""
    sets = [f"data.tasks.{i}.fields=[ehr]" for i in range(4)]
    cfg = load_config(REPO / "configs" / "mimic_fusion.yaml", sets)
    assert [t.fields for t in cfg.data.tasks] == [["ehr"]] * 4
    text = (REPO / "configs" / "mimic_fusion.yaml").read_text()
    assert "data.tasks.0.fields=[ehr]" in text and "tasks[0]" not in text
    specs = dict(_bench().run_specs())
    assert set(specs) == {"concat", "cross_attention", "gated", "late", "ehr_only", "static_only"}
    assert set(_bench().STRATEGIES) <= set(fusion_names())
    assert specs["static_only"] == [f"data.tasks.{i}.fields=[static]" for i in range(4)]


def test_every_strategy_and_baseline_on_the_demo(demo_root: Path, tmp_path: Path) -> None:
    bench = _bench()
    res = bench.compare(demo_root, steps=4, n_boot=40, out=tmp_path / "runs")
    assert set(res["runs"]) == {"concat", "cross_attention", "gated", "late", "ehr_only",
                                "static_only"}  # fmt: skip
    sp = res["split"]
    assert sp["admissions"]["test"] > 0 and sp["present_ecg"] == 0 and sp["present_cxr"] == 0
    for name, r in res["runs"].items():
        if name in bench.STRATEGIES:
            assert r["fusion"] == name and r["fields"] == ["ehr", "static", "ecg", "cxr"]
        for key in ("mortality_auroc", "los_gt7d_auroc", "los_mae"):
            m = r[key]
            assert m["value"] is not None and math.isfinite(m["value"]), (name, key, m)
            lo, hi = m["ci"]
            assert lo <= m["value"] <= hi, (name, key, m)
            assert m["n"] == sp["admissions"]["test"]
        assert 0 <= r["mortality_auroc"]["value"] <= 1
        assert r["wall_s"] > 0
        assert (Path(r["run_dir"]) / "results.parquet").is_file()
    assert res["runs"]["static_only"]["fields"] == ["static"]
    # the last printed line is one JSON object
    assert res["wall_s"] > 0 and bench.table(res).count("\n") == len(res["runs"]) + 1


def test_absent_field_is_not_encoded(demo_root: Path) -> None:
    """ECG/CXR absent from every demo admission: their encoders never run, and the outputs are
    what the fusion gives for any features of theirs (it uses its mask tokens)."""
    cfg = load_config(
        REPO / "configs" / "mimic_fusion.yaml", [f"data.root={demo_root}", "run.device=cpu"]
    )
    tasks = build_tasks(cfg, None)
    model = build_model(cfg, tasks).eval()
    t = tasks[0]
    batch = t.train.get_batch(list(range(8)))
    assert not batch["present"]["ecg"].any() and not batch["present"]["cxr"].any()
    calls: list[str] = []
    for g in ("ecg", "cxr", "ehr"):
        model.encoders[g].register_forward_hook(lambda *_a, g=g: calls.append(g))
    inputs = batch["inputs"]  # transforms applied (cxr: uint8 -> float)
    assert inputs["cxr"].dtype == torch.float32
    with torch.no_grad():
        out = model(inputs, t.head_key, batch["present"])
        assert "ecg" not in calls and "cxr" not in calls and "ehr" in calls
        feats = {f: model.encode(t.head_key, f, g, inputs[f]) for f, g in model.routes[t.head_key]}
        ref = model.heads[t.head_key](model.fusions[t.head_key](feats, batch["present"]))
    torch.testing.assert_close(out, ref)


class _Enc(nn.Module):
    def __init__(self, d_in: int, d_out: int) -> None:
        super().__init__()
        self.lin = nn.Linear(d_in, d_out)
        self.out_dim = d_out
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return self.lin(x)


@pytest.mark.parametrize("name", ["concat", "cross_attention", "gated", "late"])
def test_skip_matches_encoding(name: str) -> None:
    """No fixture: per fusion, a batch-absent field skipped == encoded and masked; a batch with
    one present sample encodes it; gradients reach only the encoders that ran."""
    torch.manual_seed(0)
    encs = {"a": _Enc(5, 6), "b": _Enc(3, 4)}
    kw = {"cross_attention": {"d_model": 8, "num_heads": 2}}.get(name, {})
    fusion = build_fusion(name, {"a": 6, "b": 4}, **kw)
    head = nn.Linear(fusion.out_dim, 2)
    model = ClimbModel(encs, {"h": head}, {"h": [("a", "a"), ("b", "b")]}, fusions={"h": fusion})
    model.eval()
    x = {"a": torch.randn(4, 5), "b": torch.randn(4, 3)}
    none = {"b": torch.zeros(4, dtype=torch.bool)}
    out = model(x, "h", none)
    assert encs["b"].calls == 0
    feats = {"a": encs["a"](x["a"]), "b": encs["b"](x["b"])}
    torch.testing.assert_close(out, head(fusion(feats, none)))
    some = {"b": torch.tensor([False, True, False, False])}
    calls = encs["b"].calls
    model(x, "h", some)
    assert encs["b"].calls == calls + 1
    model.train()
    model.zero_grad()
    model(x, "h", none).sum().backward()
    assert encs["b"].lin.weight.grad is None and encs["a"].lin.weight.grad is not None
