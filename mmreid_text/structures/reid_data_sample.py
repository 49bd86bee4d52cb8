# Copyright (c) mmreid_text contributors. All rights reserved.
from typing import List, Optional

import torch
from mmengine.structures import BaseDataElement


class ReIDDataSample(BaseDataElement):
    """Annotations and predictions of one ReID sample.

    Meta information (set by ``PackReIDInputs`` from the dataset info dict):

    - ``pid`` (int): identity label. Training sets carry relabelled ids
      ``0..N-1``; query/gallery sets keep the raw ids of the benchmark.
    - ``camid`` (int): camera index (0-based where the benchmark says so).
    - ``scene_id`` (int): scene / time-span id (MSVR310), ``-1`` otherwise.
    - ``modalities`` (tuple[str]): modality names in input order, e.g.
      ``('rgb', 'nir', 'tir')``.
    - ``missing_modalities`` (tuple[str]): modalities blanked at test time
      under the masked missing-modality protocol
      (``ReIDDataPreprocessor(missing_mode='masked')``); nothing derived from
      them may be used. Not set in the default ``'input'`` mode.
    - ``is_query`` / ``is_gallery`` (bool): evaluation roles; a sample may
      be both (RGBNT201 uses its test set as query and gallery).
    - ``sample_idx`` (int): index in the dataset (set by ``BaseDataset``).
    - ``img_path``: ``{modality: path}`` for images, ``{modality: [paths]}``
      for tracklets.
    - ``captions`` (dict[str, str]): optional per-modality text.

    Data fields:

    - ``pred_feature`` (Tensor): ``[F]`` retrieval feature set in predict
      mode.
    """

    def set_pred_feature(self, feature: torch.Tensor) -> 'ReIDDataSample':
        self.pred_feature = feature
        return self


def stack_pids(data_samples: List[ReIDDataSample],
               device: Optional[torch.device] = None) -> torch.Tensor:
    """Identity labels of a batch as a ``[B]`` long tensor."""
    return torch.as_tensor([int(s.metainfo['pid']) for s in data_samples],
                           dtype=torch.long,
                           device=device)


def check_pid_range(data_samples: List[ReIDDataSample], num_classes: int,
                    owner: str) -> None:
    """Training labels must index a classifier of ``num_classes``."""
    labels = stack_pids(data_samples)
    if int(labels.max()) >= num_classes or int(labels.min()) < 0:
        raise ValueError(
            f'{owner} has num_classes={num_classes} but the batch has '
            f'identity labels {int(labels.min())}..{int(labels.max())}; set '
            'model.head.num_classes to the number of training identities of '
            'the dataset.')
