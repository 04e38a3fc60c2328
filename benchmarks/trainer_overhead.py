"""Per-step overhead of the trainer's engine (Hugging Face Accelerate: accumulate context,
backward, gradient clipping, wrapped optimizer) against a plain PyTorch step, same model, same
batch, interleaved repeats.

    python benchmarks/trainer_overhead.py [--quick] [--steps 40] [--repeats 5]

Last line: one JSON object with ``plain_ms``, ``accelerate_ms`` (medians per step) and
``overhead_ratio`` (accelerate / plain; 1.0 = no overhead).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

import torch


def _model() -> torch.nn.Module:
    from climb.models import build_encoder, build_head

    enc = build_encoder("signal", "xresnet1d", in_channels=12, seq_len=1000, widen=0.5)
    return torch.nn.Sequential(enc, build_head("multilabel", enc.out_dim, 7))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    steps = 10 if args.quick else args.steps
    repeats = 3 if args.quick else args.repeats
    torch.set_num_threads(1)
    from accelerate import Accelerator

    from climb.tasks import get_kind

    kind = get_kind("multilabel")
    x = torch.randn(32, 12, 1000)
    y = (torch.rand(32, 7) < 0.3).float()

    def plain() -> float:
        torch.manual_seed(0)
        m = _model()
        opt = torch.optim.AdamW(m.parameters(), lr=1e-3)
        t0 = time.perf_counter()
        for _ in range(steps):
            loss = kind.loss(m(x), y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
        return (time.perf_counter() - t0) / steps * 1e3

    def accel() -> float:
        from accelerate.state import AcceleratorState, PartialState

        AcceleratorState._reset_state(True)
        PartialState._reset_state()
        acc = Accelerator(cpu=True, step_scheduler_with_optimizer=False)
        torch.manual_seed(0)
        m, opt = acc.prepare(_model(), torch.optim.AdamW(_model().parameters(), lr=1e-3))
        params = list(m.parameters())
        t0 = time.perf_counter()
        for _ in range(steps):
            with acc.accumulate(m), acc.autocast():
                loss = kind.loss(m(x), y)
                acc.backward(loss)
                if acc.sync_gradients:
                    acc.clip_grad_norm_(params, 1.0)
                opt.step()
                opt.zero_grad(set_to_none=True)
        return (time.perf_counter() - t0) / steps * 1e3

    plain()
    accel()  # warm-up
    p_ms, a_ms = [], []
    for _ in range(repeats):
        p_ms.append(plain())
        a_ms.append(accel())
    out = {
        "benchmark": "trainer_overhead",
        "steps": steps,
        "repeats": repeats,
        "plain_ms": round(statistics.median(p_ms), 2),
        "accelerate_ms": round(statistics.median(a_ms), 2),
        "overhead_ratio": round(statistics.median(a_ms) / statistics.median(p_ms), 3),
        "machine": f"{platform.machine()} {os.cpu_count()} cpus, torch {torch.__version__}",
        "load": os.getloadavg()[0],
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
