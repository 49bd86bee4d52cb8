# Copyright (c) mmreid_text contributors. All rights reserved.
from .functional import compute_distance_matrix, evaluate_rank
from .metrics import ReIDMetric
from .protocols import (BaseReIDProtocol, BUPTCampusProtocol, EvalSetting,
                        MarketProtocol, MSVR310Protocol, RegDBProtocol,
                        SameIdentitySameKeyProtocol, SYSUMM01Protocol,
                        SYSUMM01Setting, VCMProtocol, build_protocol)

__all__ = [
    'BaseReIDProtocol', 'MarketProtocol', 'MSVR310Protocol',
    'SameIdentitySameKeyProtocol', 'VCMProtocol', 'BUPTCampusProtocol',
    'EvalSetting', 'build_protocol', 'evaluate_rank',
    'compute_distance_matrix', 'ReIDMetric', 'SYSUMM01Protocol',
    'SYSUMM01Setting', 'RegDBProtocol'
]
