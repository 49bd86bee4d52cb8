# Copyright (c) mmreid_text contributors. All rights reserved.
import torch.distributed as dist
from mmengine.model import MMDistributedDataParallel

from mmreid_text.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class ReIDDistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` for ReID, on GPUs and CPUs (gloo).

    - mmengine's runner always passes ``device_ids=[LOCAL_RANK]``, which
      torch's DDP rejects for modules on the CPU; they are dropped there.
    - Evaluation runs the module directly (no DDP forward), so after
      training each rank would evaluate with the BatchNorm running
      statistics of its own last batches. Before the first evaluation step
      after training, every buffer is broadcast from rank 0, so all ranks
      evaluate exactly the model rank 0 saves in its checkpoints.
    """

    def __init__(self, module, device_ids=None, **kwargs) -> None:
        if next(module.parameters()).device.type == 'cpu':
            device_ids = None
        super().__init__(module=module, device_ids=device_ids, **kwargs)
        self._buffers_dirty = True

    def _sync_buffers_from_rank0(self) -> None:
        if self._buffers_dirty:
            for buf in self.module.buffers():
                dist.broadcast(buf, src=0)
            self._buffers_dirty = False

    def train_step(self, data, optim_wrapper):
        self._buffers_dirty = True
        return super().train_step(data, optim_wrapper)

    def val_step(self, data):
        self._sync_buffers_from_rank0()
        return super().val_step(data)

    def test_step(self, data):
        self._sync_buffers_from_rank0()
        return super().test_step(data)
