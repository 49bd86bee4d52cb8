# Copyright (c) mmreid_text contributors. All rights reserved.
import copy
import inspect
import random
from typing import Dict, Optional, Union

import numpy as np
import torch
from mmengine.hooks import CheckpointHook, EarlyStoppingHook
from mmengine.logging import print_log
from mmengine.runner import BaseLoop, Runner
from torch.utils.data import DataLoader

from mmreid_text.registry import DATA_SAMPLERS, RUNNERS
from .denormal import check_flush_denormal, flush_denormal


def reid_worker_init_fn(worker_id: int) -> None:
    """Seed numpy and python in a data-loader worker from torch's seed.

    torch gives each worker ``base_seed + worker_id`` where ``base_seed`` is
    drawn from the main process's RNG when the epoch's iterator starts
    (reseeded per epoch by ``EpochSeedHook``). Deriving numpy's seed from it
    gives different augmentations every epoch that are still reproducible,
    unlike a constant per-worker seed.
    """
    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)
    random.seed(seed)


@RUNNERS.register_module()
class ReIDRunner(Runner):
    """mmengine ``Runner`` with the data-loading defaults ReID needs.

    - Identity samplers get ``batch_size`` from the dataloader when their
      config leaves it out; a different value is an error.
    - ``persistent_workers`` is switched off when ``num_workers == 0``
      (torch rejects the combination).
    - Workers are seeded by :func:`reid_worker_init_fn` unless the config
      names another ``worker_init_fn``.
    - A val loop on a benchmark's test split (``dataset.is_test_split``:
      the benchmarks have no validation split) is test monitoring: its
      metrics are logged as ``test-monitor/...`` and selecting a checkpoint
      or stopping early on them (``save_best``, ``EarlyStoppingHook``) is an
      error; see docs/evaluation.md, "Model selection".
    - ``collate_fn`` inherited from a package-scoped base
      (``_base_ = 'mmreid_text::...'``) loses the ``_scope_`` key mmengine
      adds, which its Runner would pass to the function as an argument.
    - ``env_cfg.flush_denormal`` (default True): denormal floats are
      flushed to zero on CPU while :meth:`train`, :meth:`val` and
      :meth:`test` run (:mod:`.denormal`); False keeps them.
    """

    def setup_env(self, env_cfg: Dict) -> None:
        super().setup_env(env_cfg)
        self.flush_denormal = check_flush_denormal(
            env_cfg.get('flush_denormal', True))

    def _run_with_denormal_mode(self, run, name: str):
        with flush_denormal(self.flush_denormal) as flushed:
            print_log(
                f'{name}: denormal floats flushed to zero on CPU: {flushed} '
                f'(env_cfg.flush_denormal={self.flush_denormal})',
                logger='current')
            return run()

    def train(self) -> torch.nn.Module:
        return self._run_with_denormal_mode(super().train, 'train')

    def val(self) -> dict:
        return self._run_with_denormal_mode(super().val, 'val')

    def test(self) -> dict:
        return self._run_with_denormal_mode(super().test, 'test')

    @staticmethod
    def build_dataloader(dataloader: Union[DataLoader, Dict],
                         seed: Optional[int] = None,
                         diff_rank_seed: bool = False) -> DataLoader:
        if isinstance(dataloader, DataLoader):
            return dataloader
        cfg = copy.deepcopy(dataloader)
        sampler = cfg.get('sampler')
        if isinstance(sampler, dict) and 'batch_size' in cfg:
            sampler_cls = DATA_SAMPLERS.get(sampler.get('type'))
            if sampler_cls is not None and 'batch_size' in inspect.signature(
                    sampler_cls).parameters:
                given = sampler.get('batch_size')
                if given is None:
                    sampler['batch_size'] = cfg['batch_size']
                elif given != cfg['batch_size']:
                    raise ValueError(
                        f'{sampler["type"]}.batch_size ({given}) differs '
                        'from the dataloader batch_size '
                        f'({cfg["batch_size"]}); leave the sampler one '
                        'out so it follows the dataloader.')
        if cfg.get('num_workers', 0) == 0 and cfg.get('persistent_workers'):
            print_log(
                'persistent_workers needs num_workers > 0; switched off.',
                logger='current')
            cfg['persistent_workers'] = False
        collate_fn = cfg.get('collate_fn')
        if isinstance(collate_fn, dict):
            # A `mmreid_text::` base marks its dicts with `_scope_`;
            # mmengine would pass it on to the collate function.
            collate_fn.pop('_scope_', None)
        if 'worker_init_fn' not in cfg and cfg.get('num_workers', 0) > 0:
            cfg['worker_init_fn'] = dict(type=reid_worker_init_fn)
        return Runner.build_dataloader(cfg, seed, diff_rank_seed)

    #: Metric prefix of a val loop that runs on a test split.
    TEST_MONITOR_PREFIX = 'test-monitor'

    def build_val_loop(self, loop: Union[BaseLoop, Dict]) -> BaseLoop:
        built = super().build_val_loop(loop)
        if built is not loop:  # freshly built from its config
            dataset = getattr(built.dataloader, 'dataset', None)
            if getattr(dataset, 'is_test_split', False):
                self._mark_test_monitoring(built, dataset)
        return built

    def _mark_test_monitoring(self, loop: BaseLoop, dataset) -> None:
        name = f'{type(dataset).__name__} split={dataset.split!r}'
        for hook in self.hooks:
            selects = None
            if isinstance(hook, CheckpointHook) and hook.save_best:
                selects = f'CheckpointHook save_best={hook.save_best}'
            elif isinstance(hook, EarlyStoppingHook):
                selects = f'EarlyStoppingHook monitor={hook.monitor!r}'
            if selects:
                raise ValueError(
                    f'{selects} would select the model on the TEST split '
                    f'({name}, the val_dataloader): the benchmarks have no '
                    'validation split. Set save_best=None / drop the hook '
                    'and report the last epoch, or validate on held-out '
                    "training identities (holdout=dict(num_ids=..., part="
                    "'val'), e.g. configs/baseline/"
                    'clip_vitb16_rgbnt201_val.py); see docs/evaluation.md, '
                    '"Model selection".')
        for metric in loop.evaluator.metrics:
            metric.prefix = self.TEST_MONITOR_PREFIX
        print_log(
            f'The val loop evaluates the TEST split ({name}) for monitoring '
            'only; its metrics are logged as '
            f'{self.TEST_MONITOR_PREFIX}/... and no checkpoint is selected '
            'on them. The reported result is the last epoch.',
            logger='current')
