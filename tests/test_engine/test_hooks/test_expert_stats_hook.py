# Copyright (c) mmreid_text contributors. All rights reserved.
"""``ExpertStatsHook`` publishes the experts' selection statistics."""
from types import SimpleNamespace

import pytest
import torch
from mmengine.logging import MessageHub, MMLogger
from torch import nn

from mmreid_text.engine.hooks import ExpertStatsHook
from mmreid_text.engine.hooks.expert_stats_hook import stats_components
from mmreid_text.models.necks import (ContextSharedStructureExperts,
                                      TextModulatedSemanticExperts)
from mmreid_text.registry import HOOKS


class Model(nn.Module):

    def __init__(self):
        super().__init__()
        self.tmse = TextModulatedSemanticExperts(
            embed_dims=4, num_experts=2, text_key=None, threshold_mode='all')
        self.csse = ContextSharedStructureExperts(embed_dims=4)
        self.csse2 = ContextSharedStructureExperts(embed_dims=4)

    def forward(self, batch=2):
        feats = dict(proj_tokens=torch.randn(batch, 3, 5, 4))
        self.csse2(self.csse(self.tmse(feats)))


def runner(model, name):
    return SimpleNamespace(
        model=model,
        iter=0,
        message_hub=MessageHub.get_instance(name),
        logger=MMLogger.get_instance('expert-stats-test'))


def test_components_found_with_unique_names():
    names = [name for name, _ in stats_components(Model())]
    assert names == ['tmse', 'csse', 'csse.1']
    assert isinstance(
        HOOKS.build(dict(type='ExpertStatsHook')), ExpertStatsHook)


def test_training_logs_means_every_interval_and_resets():
    model = Model()
    run = runner(model, 'expert-stats-train')
    hook = ExpertStatsHook(interval=2)
    hook.before_train(run)
    model()
    hook.after_train_iter(run, 0)  # iter 0 -> (0 + 1) % 2 != 0: no log
    assert 'train/tmse/e1_rgb_tokens' not in run.message_hub.log_scalars
    model()
    run.iter = 1
    hook.after_train_iter(run, 1)
    scalars = run.message_hub.log_scalars
    # 'all' strategy: every one of the 5 tokens per modality
    assert scalars['train/tmse/e2_tir_tokens'].current() == 5.0
    weights = [
        scalars[f'train/csse/e{i}_rgb_weight'].current() for i in (1, 2, 3)
    ]
    assert sum(weights) == pytest.approx(1.0)
    assert 'train/csse.1/e1_nir_weight' in scalars
    assert len(model.tmse.expert_stats) == 0  # reset after logging


def test_evaluation_logs_epoch_means(caplog):
    model = Model()
    run = runner(model, 'expert-stats-val')
    hook = ExpertStatsHook()
    model()  # training leftovers are dropped before the epoch
    hook.before_val_epoch(run)
    model(batch=1)
    model(batch=3)
    hook.after_val_epoch(run, metrics={})
    assert run.message_hub.log_scalars['val/tmse/e1_rgb_tokens'].current(
    ) == 5.0
    hook.before_test_epoch(run)
    model()
    hook.after_test_epoch(run)
    assert 'test/csse/e3_tir_weight' in run.message_hub.log_scalars
    with pytest.raises(ValueError, match='interval'):
        ExpertStatsHook(interval=0)
