# Copyright (c) mmreid_text contributors. All rights reserved.
from .base_protocol import (AllSampleMeta, BaseReIDProtocol, EvalSetting,
                            as_meta_tensor, build_protocol)
from .cross_modality_protocols import (VI_MODALITIES, BUPTCampusProtocol,
                                       CrossModalityProtocol, VCMProtocol)
from .same_key_protocols import (MarketProtocol, MSVR310Protocol,
                                 SameIdentitySameKeyProtocol)
from .vi_image_protocols import (RegDBProtocol, SYSUMM01Protocol,
                                 SYSUMM01Setting, draw_sysu_galleries)

__all__ = [
    'BaseReIDProtocol', 'SameIdentitySameKeyProtocol', 'MarketProtocol',
    'MSVR310Protocol', 'build_protocol', 'as_meta_tensor', 'EvalSetting',
    'AllSampleMeta', 'CrossModalityProtocol', 'VCMProtocol',
    'BUPTCampusProtocol', 'VI_MODALITIES', 'SYSUMM01Protocol',
    'SYSUMM01Setting', 'RegDBProtocol', 'draw_sysu_galleries'
]
