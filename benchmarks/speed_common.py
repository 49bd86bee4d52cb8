# Copyright (c) mmreid_text contributors. All rights reserved.
"""Shared helpers of the speed benchmarks in ``benchmarks/``.

- :func:`build_random_model`: a model of a config with every pretrained
  weight switched off (real architecture, random weights, no weight file);
- :func:`training_step` / :func:`timed`: seconds of one training iteration
  (loss forward + backward + optimizer step) or of any call, with a device
  synchronisation on either side;
- :func:`interleaved_timings` / :func:`median_times`: the models take turns
  every iteration, so that background load on a shared machine hits all of
  them alike, and medians are reported;
- :func:`machine_info`, :func:`load_average`: what the numbers were
  measured on;
- :func:`learnable_params`, :func:`part_params`: parameter counts.

Used by ``benchmark_deep_speed.py`` and ``benchmark_vld_speed.py``; the
scripts import it as ``speed_common`` (their own folder is on
``sys.path`` when run as ``python benchmarks/<script>.py``).
"""
import argparse
import os
import os.path as osp
import platform
import statistics
import sys
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402
from mmengine.config import Config, ConfigDict  # noqa: E402
from torch import nn  # noqa: E402

import mmreid_text  # noqa: E402,F401
from mmreid_text.analysis.complexity import disable_pretrained  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

#: ``{model name: {timer name: [seconds, ...]}}``
Timings = Dict[str, Dict[str, List[float]]]


def load_config(config: str) -> Config:
    """``config`` (absolute, or relative to the repository root)."""
    path = config if osp.isabs(config) else osp.join(REPO, config)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'Config {config} not found (looked at {path}); give a path '
            'relative to the repository root or an absolute one.')
    return Config.fromfile(path)


def build_random_model(
    config: str,
    device: torch.device,
    modify: Optional[Callable[[ConfigDict], None]] = None
) -> Tuple[nn.Module, Config]:
    """Model of ``config`` with random weights, and the loaded config.

    Every ``pretrained`` key and ``Pretrained`` ``init_cfg`` of
    ``cfg.model`` is switched off (:func:`disable_pretrained`), so that the
    real architecture is built without a weight file (speed and counts do
    not depend on the values). ``modify`` (if given) edits ``cfg.model`` in
    place first (e.g. ``trim_context`` of the prompt learners). Seed torch
    before calling for reproducible weights.
    """
    from mmreid_text.registry import MODELS
    cfg = load_config(config)
    if modify is not None:
        modify(cfg.model)
    model = MODELS.build(disable_pretrained(cfg.model)).to(device)
    return model, cfg


def learnable_params(model: nn.Module) -> int:
    """Parameters with ``requires_grad`` (frozen encoders do not count)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def part_params(model: nn.Module,
                learnable_only: bool = True) -> Dict[str, int]:
    """Parameters per model part: ``backbone``, ``text_encoder``,
    ``necks.0``, ``necks.1``, ..., ``head``, ``loss_terms``."""
    parts: Dict[str, int] = {}
    for name, param in model.named_parameters():
        if learnable_only and not param.requires_grad:
            continue
        keys = name.split('.')
        key = '.'.join(keys[:2]) if keys[0] == 'necks' else keys[0]
        parts[key] = parts.get(key, 0) + param.numel()
    return parts


def sync(device: torch.device) -> None:
    """Wait for queued CUDA work (no-op on CPU)."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def timed(fn: Callable[[], object], device: torch.device) -> float:
    """Seconds of ``fn()``, device synchronised before and after."""
    sync(device)
    start = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - start


def training_step(model: nn.Module, optimizer, inputs: torch.Tensor,
                  samples: list, device: torch.device) -> float:
    """Seconds of one training iteration: ``model.loss`` (all loss terms),
    backward of their sum and one optimizer step.

    ``optimizer`` is a ``torch.optim.Optimizer`` or an mmengine
    ``OptimWrapper`` (``update_params``: backward, step, zero_grad; as the
    training loop does).
    """
    model.train()

    def step() -> None:
        losses = model.loss(inputs, samples)
        loss = sum(losses.values())
        if hasattr(optimizer, 'update_params'):
            optimizer.update_params(loss)
        else:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    return timed(step, device)


def interleaved_timings(
        steps: Dict[str, Callable[[], Dict[str, float]]],
        warmup: int,
        iters: int,
        alternate: bool = False,
        progress: Optional[Callable[[str], None]] = None) -> Timings:
    """Run every model's step once per iteration, in turns.

    Args:
        steps: ``{model name: step}``; a step runs one iteration of that
            model and returns ``{timer name: seconds}`` (e.g. ``train``,
            ``infer``).
        warmup: leading iterations that are run but not recorded.
        iters: recorded iterations.
        alternate: reverse the order of the models every other iteration
            (A B, B A, A B, ...), so that no model always runs right after
            the same other one.
        progress: called with one line per recorded model step.

    Returns:
        ``{model name: {timer name: [seconds of each recorded iteration]}}``.
    """
    if warmup < 0 or iters < 1:
        raise ValueError(f'warmup must be >= 0 and iters >= 1, got warmup='
                         f'{warmup}, iters={iters}.')
    names = list(steps)
    times: Timings = {name: {} for name in names}
    for index in range(warmup + iters):
        order = names[::-1] if alternate and index % 2 else names
        for name in order:
            result = steps[name]()
            if index < warmup:
                continue
            for key, seconds in result.items():
                times[name].setdefault(key, []).append(float(seconds))
            if progress is not None:
                shown = ', '.join(f'{k} {v:.3f} s' for k, v in result.items())
                progress(f'iteration {index - warmup + 1}/{iters} {name}: '
                         f'{shown}')
    return times


def median_times(times: Timings) -> Dict[str, Dict[str, float]]:
    """``{model: {timer: median seconds}}`` of :func:`interleaved_timings`.
    """
    return {
        name: {
            key: statistics.median(values)
            for key, values in timers.items()
        }
        for name, timers in times.items()
    }


def paired_ratios(times: Timings, name: str, reference: str,
                  timer: str) -> List[float]:
    """Per-iteration ratios ``name / reference`` of one timer (the two ran
    back to back, under about the same load)."""
    ours, theirs = times[name][timer], times[reference][timer]
    if len(ours) != len(theirs):
        raise ValueError(f'{name} has {len(ours)} {timer} timings but '
                         f'{reference} has {len(theirs)}.')
    return [a / b for a, b in zip(ours, theirs)]


def cpu_name() -> str:
    """The CPU model name of ``/proc/cpuinfo`` (else ``platform``)."""
    name = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return name


def machine_info(device: torch.device) -> str:
    """GPU name, or ``'<cpu model>, <n> threads'`` (torch threads)."""
    if device.type == 'cuda':
        return torch.cuda.get_device_name(device)
    return f'{cpu_name()}, {torch.get_num_threads()} threads'


def load_average() -> Optional[Sequence[float]]:
    """1 / 5 / 15 minute load averages (None where the OS has none)."""
    try:
        return tuple(round(x, 2) for x in os.getloadavg())
    except (AttributeError, OSError):
        return None


def add_timing_args(parser: argparse.ArgumentParser,
                    warmup: int = 2,
                    iters: int = 5) -> None:
    """``--warmup --iters --device --threads --seed``, shared by the speed
    benchmarks."""
    parser.add_argument('--warmup', type=int, default=warmup)
    parser.add_argument('--iters', type=int, default=iters)
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--threads',
        type=int,
        default=None,
        help='torch CPU threads (1 avoids thread-wakeup stalls on a busy '
        'shared machine)')
    parser.add_argument('--seed', type=int, default=0)
