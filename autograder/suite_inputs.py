"""Suite inputs: seeded weights for the modules the hidden suites build, drawn the same way everywhere."""

from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def seed_weights(*modules: nn.Module, generator: torch.Generator, scale: float = 1.0) -> None:
    """Overwrite every parameter, module after module, with ``scale`` × standard normal draws."""
    for module in modules:
        for param in module.parameters():
            param.copy_(torch.randn(param.shape, generator=generator, dtype=param.dtype) * scale)
