"""Fusion modules: shapes, presence handling, gradients, and per-sample (batch) independence."""

from __future__ import annotations

import pytest
import torch

from climb.core.errors import ClimbError
from climb.models.fusion import Fusion, build_fusion, fusion_names

torch.set_num_threads(1)

DIMS = {"ehr": 12, "ecg": 8, "cxr": 6}
B = 5


def _inputs(seed: int = 0, tokens: bool = False) -> tuple[dict, dict]:
    g = torch.Generator().manual_seed(seed)
    feats = {
        f: torch.randn(B, 3, d, generator=g) if tokens else torch.randn(B, d, generator=g)
        for f, d in DIMS.items()
    }
    present = {
        "ehr": torch.ones(B, dtype=torch.bool),
        "ecg": torch.tensor([True, False, True, False, True]),
        "cxr": torch.tensor([False, False, True, True, True]),
    }
    return feats, present


def _build(name: str) -> Fusion:
    torch.manual_seed(0)
    kwargs = {"cross_attention": {"d_model": 16, "num_heads": 2, "depth": 2}}.get(name, {})
    return build_fusion(name, DIMS, **kwargs).eval()


def test_registry_order_and_errors() -> None:
    names = fusion_names()
    assert names[0] == "concat"
    assert {"concat", "cross_attention", "gated", "late"} <= set(names)
    with pytest.raises(ClimbError, match="did you mean concat"):
        build_fusion("concatt", DIMS)
    with pytest.raises(ClimbError, match="bad options for fusion 'gated'"):
        build_fusion("gated", DIMS, hiden=3)
    with pytest.raises(ClimbError, match="positive integer"):
        build_fusion("concat", {"ehr": 0})


@pytest.mark.parametrize("name", fusion_names())
@pytest.mark.parametrize("tokens", [False, True])
def test_shape_and_gradient(name: str, tokens: bool) -> None:
    fusion = _build(name).train()
    feats, present = _inputs(tokens=tokens)
    for x in feats.values():
        x.requires_grad_(True)
    out = fusion(feats, present)
    assert out.shape == (B, fusion.out_dim)
    assert torch.isfinite(out).all()
    out.square().sum().backward()
    # Present values get gradient; absent ones get none (they never reach the output).
    for f, x in feats.items():
        g = x.grad.reshape(B, -1).abs().sum(dim=1)
        assert (g[present[f]] > 0).all(), (name, f)
        assert (g[~present[f]] == 0).all(), (name, f)
    # Every parameter that can matter receives a gradient somewhere.
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in fusion.parameters())


@pytest.mark.parametrize("name", fusion_names())
def test_absent_values_are_ignored(name: str) -> None:
    """Whatever sits in an absent field's slot (zeros, garbage, NaN) cannot change the output."""
    fusion = _build(name)
    feats, present = _inputs()
    ref = fusion(feats, present)
    for fill in (0.0, 1e6, float("nan")):
        changed = {f: x.clone() for f, x in feats.items()}
        for f, x in changed.items():
            x[~present[f]] = fill
        assert torch.equal(fusion(changed, present), ref), (name, fill)


@pytest.mark.parametrize("name", fusion_names())
def test_missing_is_not_zero(name: str) -> None:
    """An absent field differs from a present field whose features happen to be zeros."""
    fusion = _build(name)
    feats, present = _inputs()
    feats["ecg"] = torch.zeros_like(feats["ecg"])
    all_present = {f: torch.ones(B, dtype=torch.bool) for f in DIMS}
    assert not torch.allclose(fusion(feats, present)[1], fusion(feats, all_present)[1])


@pytest.mark.parametrize("name", fusion_names())
@pytest.mark.parametrize("tokens", [False, True])
def test_batch_independence(name: str, tokens: bool) -> None:
    """Changing sample j (its features and its presence) leaves every other output unchanged."""
    fusion = _build(name)
    feats, present = _inputs(tokens=tokens)
    ref = fusion(feats, present)
    j = 2
    other_feats, _ = _inputs(seed=1, tokens=tokens)
    changed = {f: x.clone() for f, x in feats.items()}
    changed_present = {f: p.clone() for f, p in present.items()}
    for f in DIMS:
        changed[f][j] = other_feats[f][j] * 10
    changed_present["ecg"][j] = False
    out = fusion(changed, changed_present)
    keep = [i for i in range(B) if i != j]
    torch.testing.assert_close(out[keep], ref[keep], rtol=1e-5, atol=1e-6)
    assert not torch.allclose(out[j], ref[j])
    # The output of one sample alone equals its row in the batch.
    single = fusion(
        {f: x[j : j + 1] for f, x in changed.items()},
        {f: p[j : j + 1] for f, p in changed_present.items()},
    )
    torch.testing.assert_close(single[0], out[j], rtol=1e-5, atol=1e-6)


def test_concat_layout() -> None:
    fusion = _build("concat")
    feats, present = _inputs()
    out = fusion(feats, present)
    assert fusion.out_dim == sum(DIMS.values()) + len(DIMS)
    torch.testing.assert_close(out[:, :12], feats["ehr"])
    # Sample 1 has no ECG: its ECG slot is the learned mask token, not the input, not zeros.
    torch.testing.assert_close(out[1, 12:20], fusion.mask_tokens["ecg"].detach())
    assert out[1, 12:20].abs().sum() > 0
    torch.testing.assert_close(out[:, -3:], torch.stack(list(present.values()), 1).float())
    proj = build_fusion("concat", DIMS, proj_dim=7)
    assert proj(feats, present).shape == (B, 7) and proj.out_dim == 7


def test_gated_weights_only_present_fields() -> None:
    fusion = _build("gated")
    feats, present = _inputs()
    # Sample 0 has no cxr: the cxr branch's features get gate weight 0 there (its mask token
    # still informs the gates as "cxr missing"), so changing that branch cannot change sample 0.
    ref = fusion(feats, present)
    with torch.no_grad():
        fusion.transform["cxr"][1].bias.add_(5.0)
    out = fusion(feats, present)
    torch.testing.assert_close(out[0], ref[0])
    assert not torch.allclose(out[2], ref[2])  # sample 2 has a cxr


def test_late_mean_is_average_of_present_heads() -> None:
    fusion = _build("late")
    feats, present = _inputs()
    out = fusion(feats, present)
    per = fusion.per_field(feats)
    expected = per["ehr"][1]  # sample 1: only ehr present
    torch.testing.assert_close(out[1], expected)
    expected4 = (per["ehr"][4] + per["ecg"][4] + per["cxr"][4]) / 3
    torch.testing.assert_close(out[4], expected4)
    stack = build_fusion("late", DIMS, mode="stack", late_dim=4)
    assert stack(feats, present).shape == (B, 3 * 4 + 3)
    with pytest.raises(ClimbError, match="late fusion mode"):
        build_fusion("late", DIMS, mode="vote")


def test_no_field_present_is_finite() -> None:
    for name in fusion_names():
        fusion = _build(name)
        feats, _ = _inputs()
        none = {f: torch.zeros(B, dtype=torch.bool) for f in DIMS}
        out = fusion(feats, none)
        assert torch.isfinite(out).all(), name
        # Every sample with nothing present gets the same (learned) output.
        torch.testing.assert_close(out[0], out[3])


def test_input_errors() -> None:
    fusion = _build("concat")
    feats, present = _inputs()
    with pytest.raises(ClimbError, match="missing: \\['cxr'\\]"):
        fusion({k: v for k, v in feats.items() if k != "cxr"}, present)
    bad = dict(feats, ecg=torch.randn(B, 9))
    with pytest.raises(ClimbError, match="field 'ecg' must be"):
        fusion(bad, present)
    with pytest.raises(ClimbError, match="presence mask of field 'ehr'"):
        fusion(feats, dict(present, ehr=torch.ones(B + 1, dtype=torch.bool)))
    # A field missing from `present` counts as present everywhere.
    all_p = dict(present, ecg=torch.ones(B, dtype=torch.bool))
    partial = {k: v for k, v in present.items() if k != "ecg"}
    torch.testing.assert_close(fusion(feats, partial), fusion(feats, all_p))
