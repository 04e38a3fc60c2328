"""DRPO through TRL end to end on CPU: a tiny randomly initialised Llama and a word-level
tokenizer built locally (no hub download), trained for a few steps on the qa-jsonl export of two
tiny stores (two domains)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("trl")

sys.path.insert(0, str(Path(__file__).parents[1] / "data"))


def _qa_rows(tmp: Path) -> list[dict]:
    from climb_synth_store import make_store

    from climb.export import export_store
    from tests.export.conftest import make_image_store

    make_store(tmp / "synth", n=12, channels=2, seq_len=100, chunk=4)
    make_image_store(tmp / "tinyimg", n=12)
    rows = []
    for store, task in ((tmp / "synth", "bin"), (tmp / "tinyimg", "kind")):
        out = export_store(
            store, "qa-jsonl", tmp / f"qa-{store.name}", tasks=[task], echo=lambda s: None
        ).out
        rows += [json.loads(x) for x in (out / "annotation_train.jsonl").read_text().splitlines()]
    return rows


def _tokenizer(texts: list[str]):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = sorted(
        {w for t in texts for w in pre_tokenizers.Whitespace().pre_tokenize_str(t) for w in [w[0]]}
    )
    vocab = {w: i for i, w in enumerate(["[PAD]", "[UNK]", "[EOS]", *words])}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]", eos_token="[EOS]"
    )


def test_drpo_trainer_end_to_end(tmp_path: Path) -> None:
    from transformers import LlamaConfig, LlamaForCausalLM
    from trl import GRPOConfig

    from climb.rl import DomainHistory, drpo_advantages
    from climb.rl.trl import HISTORY_FILE, DRPOTrainer
    from datasets import Dataset

    t0 = time.perf_counter()
    torch.manual_seed(0)
    rows = _qa_rows(tmp_path)
    prompts = [r["conversations"][0]["value"].replace("<image>\n", "") for r in rows]
    answers = [r["conversations"][1]["value"] for r in rows]
    ds = Dataset.from_dict(
        {"prompt": prompts, "answer": answers, "dataset": [r["dataset"] for r in rows]}
    )
    assert set(ds["dataset"]) == {"synth", "tinyimg"}
    tok = _tokenizer(prompts + answers)
    cfg = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=128,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
        bos_token_id=None,
    )
    model = LlamaForCausalLM(cfg)
    before = [p.detach().clone() for p in model.parameters()]

    def reward(completions, answer, **_):  # strictly positive: mentions the answer or not
        return [
            1.0 if a.split(",")[0].lower() in c.lower() else 0.1 + 0.01 * len(c.split())
            for c, a in zip(completions, answer, strict=True)
        ]

    args = GRPOConfig(
        output_dir=str(tmp_path / "run"),
        per_device_train_batch_size=8,
        num_generations=4,
        max_completion_length=6,
        max_steps=3,
        learning_rate=1e-2,
        logging_steps=1,
        save_strategy="steps",
        save_steps=3,
        report_to=[],
        use_cpu=True,
        seed=0,
        dataloader_num_workers=0,
        bf16=False,
        fp16=False,
        beta=0.0,
    )
    trainer = DRPOTrainer(
        model=model,
        reward_funcs=[reward],
        args=args,
        train_dataset=ds,
        processing_class=tok,
        domain_column="dataset",
        history=DomainHistory(max_per_domain=64),
    )
    trainer.train()
    # the advantages TRL trained on are DRPO's: replay the logged rewards into a fresh history
    assert len(trainer.drpo_log) == 3
    replay = DomainHistory(max_per_domain=64)
    for rec in trainer.drpo_log:
        r = torch.tensor(rec["rewards"])[:, None]
        idx = [f"{rec['step']}:{i // 4}" for i in range(len(r))]
        a, _ = drpo_advantages(r, torch.ones_like(r), idx, rec["domains"], replay)
        np.testing.assert_allclose(a[:, 0].numpy(), rec["advantages"], atol=1e-6)
        assert np.isfinite(rec["advantages"]).all()
    h = trainer.drpo_history
    assert sum(h.count(d) for d in h.domains) == 3 * 2  # 8 completions / 4 per question per step
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    saved = json.loads((tmp_path / "run" / "checkpoint-3" / HISTORY_FILE).read_text())
    assert DomainHistory.from_state_dict(saved).count(h.domains[0]) == h.count(h.domains[0])
    assert time.perf_counter() - t0 < 60
