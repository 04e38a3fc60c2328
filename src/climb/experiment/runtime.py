"""Runtime of a run: process rank / world size, the device, seeding."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass

import numpy as np
import torch

from climb.core.errors import ClimbError


@dataclass
class Dist:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed() -> Dist:
    """Join the process group when started by ``torchrun`` (``WORLD_SIZE`` > 1)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    import torch.distributed as td

    rank = int(os.environ["RANK"])
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if not td.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        td.init_process_group(backend=backend)
    return Dist(rank, world, local)


def select_device(spec: str, dist: Dist) -> torch.device:
    """``auto``: cuda > mps > cpu; or the given device (under DDP, ``cuda`` = this local rank's)."""
    if spec == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", dist.local_rank % max(1, torch.cuda.device_count()))
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(spec)
    except RuntimeError:
        raise ClimbError(
            f"unknown device {spec!r}", where="run.device", fix="auto, cpu, cuda, cuda:N or mps"
        ) from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ClimbError(
                "run.device asks for cuda but no CUDA GPU is visible",
                where="run.device",
                fix="use run.device=auto or cpu",
            )
        if dev.index is None:
            dev = torch.device("cuda", dist.local_rank % torch.cuda.device_count())
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ClimbError("run.device asks for mps but MPS is not available", where="run.device")
    return dev


def seed_everything(seed: int, deterministic: bool = False) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
