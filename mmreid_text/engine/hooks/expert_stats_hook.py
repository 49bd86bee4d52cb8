# Copyright (c) mmreid_text contributors. All rights reserved.
"""Log the expert statistics of mixture-of-experts components."""
from typing import Dict, List, Optional, Tuple

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmreid_text.models.utils.expert_stats import ExpertStats
from mmreid_text.registry import HOOKS


def stats_components(model) -> List[Tuple[str, object]]:
    """``[(name, module)]`` of the modules that keep an ``expert_stats``
    (:class:`ExpertStats`) and define ``expert_stats_scalars``; ``name``
    is the module's ``stats_name`` (made unique with ``.1``, ``.2``...)."""
    if is_model_wrapper(model):
        model = model.module
    found, seen = [], {}
    for module in model.modules():
        if not isinstance(getattr(module, 'expert_stats',
                                  None), ExpertStats) or not hasattr(
                                      module, 'expert_stats_scalars'):
            continue
        name = getattr(module, 'stats_name', type(module).__name__)
        count = seen.get(name, 0)
        seen[name] = count + 1
        found.append((name if count == 0 else f'{name}.{count}', module))
    return found


@HOOKS.register_module()
class ExpertStatsHook(Hook):
    """Log what the experts select (e.g. NEXT Fig. 6: tokens per semantic
    expert and modality) during training and evaluation.

    Components (``TextModulatedSemanticExperts``,
    ``ContextSharedStructureExperts``, ``SampledCaptionEncoder``) add
    batch sums to their ``expert_stats``; this hook reads the means and
    writes them to the message hub as ``{mode}/{stats_name}/{stat}``
    scalars, e.g. ``train/tmse/e1_rgb_tokens`` (mean tokens of RGB
    selected by expert 1 per sample), which the logger prints next to the
    losses / metrics and sends to the visualizer backends.

    - Training: every ``interval`` iterations, the means over the
      iterations since the last log (this process's batches).
    - Validation / test: the means over the whole epoch, summed over all
      processes, logged after the epoch (next to the metrics) and, with
      ``log_table``, printed as one line per component.

    Args:
        interval (int): Training iterations between logs (set it to the
            logger's interval).
        log_table (bool): Also print the evaluation means.
    """

    priority = 'NORMAL'  # before LoggerHook (BELOW_NORMAL) reads the hub

    def __init__(self, interval: int = 50, log_table: bool = True) -> None:
        if interval < 1:
            raise ValueError('ExpertStatsHook: interval must be >= 1.')
        self.interval = interval
        self.log_table = log_table

    @staticmethod
    def _reset(runner) -> None:
        for _, module in stats_components(runner.model):
            module.expert_stats.reset()

    def collect(self, runner, all_reduce: bool) -> Dict[str, float]:
        """``{'{stats_name}/{stat}': mean}`` of every component; resets
        them."""
        out = {}
        for name, module in stats_components(runner.model):
            if len(module.expert_stats):
                scalars = module.expert_stats_scalars(all_reduce=all_reduce)
                out.update({f'{name}/{k}': v for k, v in scalars.items()})
            module.expert_stats.reset()
        return out

    def _publish(self, runner, mode: str, scalars: Dict[str, float]) -> None:
        for key, value in scalars.items():
            runner.message_hub.update_scalar(f'{mode}/{key}', value)

    # training
    def before_train(self, runner) -> None:
        self._reset(runner)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        if self.every_n_train_iters(runner, self.interval):
            self._publish(runner, 'train', self.collect(runner, False))

    # evaluation
    def _before_eval(self, runner) -> None:
        self._reset(runner)

    def _after_eval(self, runner, mode: str) -> None:
        scalars = self.collect(runner, all_reduce=True)
        self._publish(runner, mode, scalars)
        if self.log_table and scalars:
            groups: Dict[str, List[str]] = {}
            for key, value in scalars.items():
                name, stat = key.split('/', 1)
                groups.setdefault(name, []).append(f'{stat}={value:.4g}')
            for name, items in groups.items():
                runner.logger.info(f'Expert statistics ({mode}) {name}: ' +
                                   ' '.join(items))

    def before_val_epoch(self, runner) -> None:
        self._before_eval(runner)

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._after_eval(runner, 'val')

    def before_test_epoch(self, runner) -> None:
        self._before_eval(runner)

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._after_eval(runner, 'test')
