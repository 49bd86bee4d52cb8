# Copyright (c) mmreid_text contributors. All rights reserved.
"""Running statistics of mixture-of-experts components (load balance).

A component that routes tokens to experts keeps an :class:`ExpertStats`
in its ``expert_stats`` attribute and adds per-batch sums in its forward
pass; ``ExpertStatsHook`` (``mmreid_text/engine/hooks``) reads the means
through the component's ``expert_stats_scalars()`` and logs them.
"""
from typing import Dict, Tuple

import torch
from mmengine import dist


class ExpertStats:
    """Sums of per-sample statistics since the last :meth:`reset`.

    Not part of the module state (not saved in checkpoints).
    """

    def __init__(self) -> None:
        self._sums: Dict[str, torch.Tensor] = {}
        self._counts: Dict[str, float] = {}

    def reset(self) -> None:
        """Forget everything added so far."""
        self._sums = {}
        self._counts = {}

    def __len__(self) -> int:
        return len(self._sums)

    def add(self, name: str, total: torch.Tensor, count: int) -> None:
        """Add the sum ``total`` of a statistic over ``count`` samples."""
        total = total.detach().float()
        if name in self._sums:
            if self._sums[name].shape != total.shape:
                raise ValueError(f'ExpertStats "{name}": shape '
                                 f'{tuple(total.shape)} differs from the '
                                 f'{tuple(self._sums[name].shape)} added '
                                 'before.')
            self._sums[name] = self._sums[name] + total
            self._counts[name] += count
        else:
            self._sums[name] = total.clone()
            self._counts[name] = float(count)

    def means(self, all_reduce: bool = False) -> Dict[str, torch.Tensor]:
        """``{name: sum / count}`` (on CPU); with ``all_reduce`` the sums
        and counts of every process are added first (every process must
        have added the same names)."""
        out = {}
        for name in sorted(self._sums):
            total = self._sums[name]
            count = torch.tensor(self._counts[name], device=total.device)
            if all_reduce:
                total = total.clone()
                dist.all_reduce(total, op='sum')
                dist.all_reduce(count, op='sum')
            out[name] = (total / count.clamp(min=1)).cpu()
        return out


def expert_modality_names(
        num_experts: int,
        modalities: Tuple[str, ...]) -> Dict[Tuple[int, int], str]:
    """``{(expert index, modality index): 'e{i}_{modality}'}``, experts
    numbered from 1 as in the paper (``E_t^(1)``)."""
    return {
        (e, m): f'e{e + 1}_{name}'
        for e in range(num_experts)
        for m, name in enumerate(modalities)
    }
