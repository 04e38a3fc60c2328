"""Training-step throughput of climb's encoders (forward + head + masked loss + backward + AdamW).

    python benchmarks/train_step.py [--quick] [--threads N] [--device cpu|cuda|all]

Signal encoders run on (B, 12, 5000) inputs (12-lead ECG, 10 s at 500 Hz), the default image
encoder on (B, 1, 224, 224). Each case does warm-up steps, then times steps one by one and
reports the median step time and samples/s = B / median. CUDA runs when available. Prints a
table, then ONE JSON line with every number.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from typing import Any

import torch

from climb.models import build_encoder, build_head
from climb.tasks import get_kind


def _cases(quick: bool) -> list[tuple[str, str, dict[str, Any], tuple[int, ...]]]:
    signal = (12, 5000)
    cases = [
        ("signal", "xresnet1d", {"in_channels": 12, "seq_len": 5000}, signal),
        ("signal", "xresnet1d50", {"in_channels": 12, "seq_len": 5000}, signal),
        ("signal", "patch_transformer", {"in_channels": 12, "seq_len": 5000}, signal),
        ("image", "convnextv2_atto", {"in_chans": 1}, (1, 224, 224)),
    ]
    if not quick:
        cases.insert(2, ("signal", "xresnet1d101", {"in_channels": 12, "seq_len": 5000}, signal))
    return cases


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bench_one(
    modality: str,
    name: str,
    kwargs: dict[str, Any],
    shape: tuple[int, ...],
    *,
    batch: int,
    warmup: int,
    steps: int,
    device: torch.device,
) -> dict[str, Any]:
    torch.manual_seed(0)
    encoder = build_encoder(modality, name, **kwargs).to(device)
    head = build_head("multilabel", encoder.out_dim, 7).to(device)
    params = [*encoder.parameters(), *head.parameters()]
    opt = torch.optim.AdamW(params, lr=1e-4)
    x = torch.randn(batch, *shape, device=device)
    y = (torch.rand(batch, 7, device=device) < 0.3).float()
    y[0, 0] = -1  # one missing label: the masked path is the one used in training
    encoder.train()
    times = []
    for i in range(warmup + steps):
        _sync(device)
        start = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = get_kind("multilabel").loss(head(encoder(x)), y)
        loss.backward()
        opt.step()
        _sync(device)
        if i >= warmup:
            times.append(time.perf_counter() - start)
    median = statistics.median(times)
    return {
        "device": device.type,
        "encoder": f"{modality}/{name}",
        "input": [batch, *shape],
        "batch": batch,
        "params_m": round(sum(p.numel() for p in params) / 1e6, 2),
        "steps": steps,
        "median_step_s": round(median, 4),
        "min_step_s": round(min(times), 4),
        "samples_per_s": round(batch / median, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small batch, few steps")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--device", choices=["cpu", "cuda", "all"], default="all")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    devices = []
    if args.device in ("cpu", "all"):
        devices.append(torch.device("cpu"))
    if args.device in ("cuda", "all") and torch.cuda.is_available():
        devices.append(torch.device("cuda"))
    results = []
    for device in devices:
        gpu = device.type == "cuda"
        batch = (32 if args.quick else 64) if gpu else (8 if args.quick else 16)
        warmup = 3 if gpu else 1
        steps = (10 if args.quick else 30) if gpu else (3 if args.quick else 10)
        for modality, name, kwargs, shape in _cases(args.quick):
            r = bench_one(
                modality,
                name,
                kwargs,
                shape,
                batch=batch,
                warmup=warmup,
                steps=steps,
                device=device,
            )
            results.append(r)
            print(
                f"{r['device']:5} {r['encoder']:26} {tuple(r['input'])!s:20} "
                f"{r['params_m']:7.2f}M  median {r['median_step_s']:8.4f} s/step  "
                f"{r['samples_per_s']:9.2f} samples/s",
                flush=True,
            )
    machine = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }
    print(
        json.dumps(
            {"benchmark": "train_step", "quick": args.quick, "machine": machine, "results": results}
        )
    )


if __name__ == "__main__":
    main()
