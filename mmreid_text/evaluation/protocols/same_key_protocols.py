# Copyright (c) mmreid_text contributors. All rights reserved.
"""Protocols that drop gallery entries sharing the query's pid and one key.

``market`` (same camera) and ``msvr310`` (same scene / time span).
"""
from torch import Tensor

from mmreid_text.registry import REID_PROTOCOLS
from .base_protocol import BaseReIDProtocol, SampleMeta


@REID_PROTOCOLS.register_module(name='same_pid_same_key')
class SameIdentitySameKeyProtocol(BaseReIDProtocol):
    """Drop gallery entries that share the query's pid and one meta key.

    Args:
        key (str): meta key compared in addition to the pid (``'camid'`` for
            Market, ``'scene_id'`` for MSVR310).
    """

    def __init__(self, key: str) -> None:
        self.key = key
        self.required_keys = (key, )

    def ignore_mask(self, query: SampleMeta, gallery: SampleMeta) -> Tensor:
        same_pid = query['pid'][:, None] == gallery['pid'][None, :]
        same_key = query[self.key][:, None] == gallery[self.key][None, :]
        return same_pid & same_key

    def __repr__(self) -> str:
        if type(self) is SameIdentitySameKeyProtocol:
            return f'{type(self).__name__}(key={self.key!r})'
        return f'{type(self).__name__}()'


@REID_PROTOCOLS.register_module(name='market')
class MarketProtocol(SameIdentitySameKeyProtocol):
    """Market-1501 / torchreid rule: ignore same pid AND same camera.

    Used by Market-1501, RGBNT201, RGBNT100 and most image ReID sets.
    """

    def __init__(self) -> None:
        super().__init__('camid')


@REID_PROTOCOLS.register_module(name='msvr310')
class MSVR310Protocol(SameIdentitySameKeyProtocol):
    """MSVR310 rule: ignore same pid AND same scene (time span).

    The camera is not looked at: every shot of the query vehicle from the
    same time span is removed, only other time spans count as matches.
    """

    def __init__(self) -> None:
        super().__init__('scene_id')
