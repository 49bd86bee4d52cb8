# Copyright (c) mmreid_text contributors. All rights reserved.
from mmengine.model import MMDistributedDataParallel

from mmreid_text.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class ReIDDistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` that also runs CPU modules (gloo).

    mmengine's runner always passes ``device_ids=[LOCAL_RANK]``, which
    torch's DDP rejects for modules on the CPU; they are dropped there. On
    GPUs it behaves exactly like the parent class.
    """

    def __init__(self, module, device_ids=None, **kwargs) -> None:
        if next(module.parameters()).device.type == 'cpu':
            device_ids = None
        super().__init__(module=module, device_ids=device_ids, **kwargs)
