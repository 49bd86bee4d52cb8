# Copyright (c) mmreid_text contributors. All rights reserved.
# default_runtime.py for iteration-based schedules (IterBasedTrainLoop):
# checkpoints and logs counted in iterations.
_base_ = ['./default_runtime.py']
default_hooks = dict(
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=800, max_keep_ckpts=3))
log_processor = dict(by_epoch=False)
