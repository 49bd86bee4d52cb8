# Copyright (c) mmreid_text contributors. All rights reserved.
"""Flushing denormal floats to zero on CPU (``env_cfg.flush_denormal``).

x86 CPUs handle denormal (subnormal) float32 values, nonzero and below
``1.18e-38``, many times slower than normal numbers. In VLD training the
gradients of ``L_v2t`` (raw dot-product logits over all identity prompts,
softmax probabilities far below 1e-30 for most identities) that flow back
through the frozen text encoder hold thousands of them per iteration
(docs/benchmarks.md, "Denormals"), which made CPU iterations up to 13x
slower. ``torch.set_flush_denormal(True)`` sets the CPU's flush-to-zero and
denormals-are-zero modes: such values become 0, nothing else changes. It
affects CPU kernels of the calling thread (and threads it starts later);
GPU kernels are unaffected.
"""
from contextlib import contextmanager
from typing import Iterator

import torch

#: The smallest normal float32; nonzero values below it are denormal.
FLOAT32_TINY = torch.finfo(torch.float32).tiny


def denormals_flushed() -> bool:
    """Whether denormal float32 values are currently flushed to zero on CPU
    (probed: torch has no getter)."""
    probe = torch.tensor([FLOAT32_TINY], dtype=torch.float32)
    return bool((probe * 0.5).item() == 0.0)


def check_flush_denormal(value, where: str = 'env_cfg.flush_denormal') -> bool:
    """``value`` if it is a bool, else ``ValueError`` naming ``where``."""
    if not isinstance(value, bool):
        raise ValueError(f'{where} must be True (flush denormal floats to '
                         'zero on CPU, the default) or False (keep them), '
                         f'got {value!r}.')
    return value


@contextmanager
def flush_denormal(enabled: bool = True) -> Iterator[bool]:
    """Flush (``enabled=True``) or keep (``False``) denormals inside the
    block, then restore the previous mode.

    Yields:
        bool: Whether denormals are flushed inside the block (``False`` on
        CPUs without the SSE3 modes, where ``enabled`` cannot be honoured).
    """
    check_flush_denormal(enabled, 'flush_denormal(enabled)')
    before = denormals_flushed()
    torch.set_flush_denormal(enabled)
    try:
        yield denormals_flushed()
    finally:
        torch.set_flush_denormal(before)
