# Copyright (c) mmreid_text contributors. All rights reserved.
from .supcon_loss import SupConLoss, supervised_contrastive
from .triplet_loss import TripletLoss, pairwise_euclidean
from .v2t_loss import VisualToTextLoss
from .wrt_loss import WRTLoss

__all__ = [
    'TripletLoss', 'pairwise_euclidean', 'SupConLoss',
    'supervised_contrastive', 'VisualToTextLoss', 'WRTLoss'
]
