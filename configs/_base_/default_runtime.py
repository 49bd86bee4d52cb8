# Copyright (c) mmreid_text contributors. All rights reserved.
default_scope = 'mmreid_text'
custom_imports = dict(imports=['mmreid_text'], allow_failed_imports=False)
runner_type = 'ReIDRunner'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # No save_best: the benchmarks have no validation split, so the val
    # loop evaluates the TEST split (test monitoring, logged as
    # test-monitor/...) and the reported result is the last epoch. Model
    # selection needs a held-out split of training identities, see
    # docs/evaluation.md "Model selection" and *_val.py configs.
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
# Reseed every epoch from (seed, epoch): makes --resume exact.
custom_hooks = [dict(type='EpochSeedHook')]

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
# DDP wrapper (CPU-friendly, syncs buffers before evaluation). mmengine
# looks wrappers up without the default scope, hence the prefix.
model_wrapper_cfg = dict(type='mmreid_text.ReIDDistributedDataParallel')

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)
log_processor = dict(by_epoch=True)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)
