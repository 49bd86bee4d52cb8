# Copyright (c) mmreid_text contributors. All rights reserved.
from .base import (BaseReIDProtocol, MarketProtocol, MSVR310Protocol,
                   SameIdentitySameKeyProtocol, build_protocol)

__all__ = [
    'BaseReIDProtocol', 'SameIdentitySameKeyProtocol', 'MarketProtocol',
    'MSVR310Protocol', 'build_protocol'
]
