# Copyright (c) mmreid_text contributors. All rights reserved.
from .cmsp_loss import CMSPLoss
from .image_text_contrastive_loss import (ImageTextContrastiveLoss,
                                          image_text_contrast)
from .multi_view_distill_loss import MultiViewDistillationLoss
from .supcon_loss import SupConLoss, supervised_contrastive
from .triplet_loss import TripletLoss, pairwise_euclidean
from .v2t_loss import VisualToTextLoss
from .wrt_loss import WRTLoss

__all__ = [
    'TripletLoss', 'pairwise_euclidean', 'SupConLoss',
    'supervised_contrastive', 'VisualToTextLoss', 'WRTLoss',
    'ImageTextContrastiveLoss', 'image_text_contrast',
    'MultiViewDistillationLoss', 'CMSPLoss'
]
