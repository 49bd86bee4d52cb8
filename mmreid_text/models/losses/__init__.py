# Copyright (c) mmreid_text contributors. All rights reserved.
from .triplet_loss import TripletLoss, pairwise_euclidean

__all__ = ['TripletLoss', 'pairwise_euclidean']
