# Copyright (c) mmreid_text contributors. All rights reserved.
from .base_protocol import BaseReIDProtocol, as_meta_tensor, build_protocol
from .same_key_protocols import (MarketProtocol, MSVR310Protocol,
                                 SameIdentitySameKeyProtocol)

__all__ = [
    'BaseReIDProtocol', 'SameIdentitySameKeyProtocol', 'MarketProtocol',
    'MSVR310Protocol', 'build_protocol', 'as_meta_tensor'
]
