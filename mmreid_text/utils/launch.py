# Copyright (c) mmreid_text contributors. All rights reserved.
import os

import torch
import torch.distributed as dist
from mmengine.config import Config
from mmengine.logging import print_log


def setup_launcher(cfg: Config, launcher: str) -> None:
    """Prepare ``cfg`` for ``launcher``; start gloo DDP on CPU machines.

    mmengine 0.10.7's ``pytorch`` launcher assumes CUDA
    (``torch.cuda.set_device``). Without CUDA the gloo process group is
    initialised here, before the Runner is built (the Runner then skips its
    own initialisation), and the CPU-friendly model wrapper is used.
    """
    cfg.launcher = launcher
    if launcher == 'none':
        return
    if torch.cuda.is_available():
        return
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    cfg.env_cfg.dist_cfg['backend'] = 'gloo'
    if launcher == 'pytorch' and not dist.is_initialized():
        missing = [
            k for k in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')
            if k not in os.environ
        ]
        if missing:
            raise RuntimeError(
                f'--launcher pytorch needs {missing} in the environment; '
                'start the script with torchrun --nproc_per_node=N.')
        dist.init_process_group(backend='gloo')
        print_log(
            f'CPU run: gloo process group initialised (rank '
            f'{dist.get_rank()}/{dist.get_world_size()}).',
            logger='current')
    cfg.setdefault('model_wrapper_cfg',
                   dict(type='mmreid_text.ReIDDistributedDataParallel'))
