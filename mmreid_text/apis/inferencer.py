# Copyright (c) mmreid_text contributors. All rights reserved.
"""``ReIDInferencer``: retrieval features from a config and a checkpoint.

One call turns image files, multi-spectral triplets, tracklets or
visible-infrared images (plus captions for models that read text) into the
features the model ranks by, with the config's TEST pipeline, in batches,
on CPU or GPU (docs/inference.md).
"""
import copy
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.runner import load_checkpoint
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from mmreid_text.captions.text import fit_to_context, split_sentences
from mmreid_text.registry import DATASETS, MODELS, TRANSFORMS
from mmreid_text.utils import load_config, register_all_modules

#: Dataset classes whose samples hold ONE modality each (visible-infrared
#: benchmarks: a sample is a visible or an infrared image / tracklet).
ONE_MODALITY_DATASETS = ('SYSUMM01', 'RegDB', 'HITSZVCM', 'BUPTCampus')

#: Input of one sample: a path (single-modality models, or benchmarks that
#: store every modality in one file), ``{modality: path}`` or
#: ``{modality: [frame paths]}``.
SampleInput = Union[str, Dict[str, Union[str, Sequence[str]]]]


class InferenceInputError(ValueError):
    """An input does not have the form the config's dataset expects."""


class _PipelineInputs(Dataset):
    """Info dicts run through the test pipeline one by one (for a
    ``DataLoader``; ``num_workers`` > 0 decodes in parallel)."""

    def __init__(self, infos: List[dict], pipeline: Compose) -> None:
        self.infos = infos
        self.pipeline = pipeline

    def __len__(self) -> int:
        return len(self.infos)

    def __getitem__(self, index: int) -> dict:
        return self.pipeline(copy.deepcopy(self.infos[index]))


def _dataset_class(dataset_cfg: dict):
    """The registered class of a dataset config (None if unknown)."""
    kind = dataset_cfg.get('type')
    if isinstance(kind, type):
        return kind
    if not isinstance(kind, str):
        return None
    return DATASETS.get(kind)


class ReIDInferencer:
    """Retrieval features of a trained ReID model.

    Builds the model of ``config``, loads ``checkpoint`` (a local file;
    nothing is downloaded) and the TEST pipeline of
    ``test_dataloader.dataset`` (``pipeline`` from the config), and
    returns the feature each sample is ranked by in evaluation: the
    model's ``predict`` output ``pred_feature`` (``[F]`` per sample; with
    ``model.test_cfg.flip`` the flip-fused feature), exactly as
    ``tools/test.py`` computes it.

    Input forms (``dataset`` below is the config's test dataset, whose
    modalities are :attr:`modalities`):

    - single-modality datasets (one modality, e.g. Market-1501 via
      ``TorchreidImageDataset``): a path ``'a.jpg'`` (or
      ``{'rgb': 'a.jpg'}``);
    - multi-spectral datasets (RGBNT201, MSVR310, ...): a dict with EVERY
      modality, ``{'rgb': p, 'nir': p, 'tir': p}``; benchmarks that store
      the modalities side by side in one file (RGBNT100) also take that
      one path;
    - visible-infrared datasets (:data:`ONE_MODALITY_DATASETS`: SYSU-MM01,
      RegDB, HITSZ-VCM, BUPTCampus): a dict with exactly ONE modality,
      ``{'ir': p}`` (the modality the image was taken in);
    - video configs (the test pipeline has ``SampleFrames`` or
      ``PackReIDInputs(video=True)``): the paths are lists of frame paths
      in temporal order, ``{'ir': [f0, f1, ...]}``; the pipeline samples
      its frames as in evaluation.

    Captions: when the test pipeline has ``LoadCaptions`` the model reads
    text at test time, and every sample needs ``{modality: caption}`` in
    ``captions`` (the step is replaced by the given captions, fitted to
    the text context by its ``overflow`` rule); otherwise given captions
    are still attached to the samples (``metainfo['captions']``) for
    models that read them.

    Args:
        config (str | Config): Config file or loaded config.
        checkpoint (str, optional): Local checkpoint (``.pth``). None
            keeps the freshly initialised weights (tests, debugging).
        device (str, optional): ``'cpu'``, ``'cuda'``, ``'cuda:1'`` ...;
            default CUDA when available.
        batch_size (int): Samples per forward pass.
        num_workers (int): Data-loader workers decoding the images.
        cfg_options (dict, optional): Config overrides (as
            ``--cfg-options``), e.g. ``{'model.backbone.pretrained':
            None}`` when the CLIP weight file of the config is absent.
        one_modality_per_sample (bool, optional): Override the dataset
            rule above (for a custom visible-infrared dataset class).
        progress (bool | None): Progress bar: always, never, or (None)
            for inputs longer than :attr:`PROGRESS_MIN` samples.

    Example::

        >>> inferencer = ReIDInferencer('configs/deep/deep_vitb16_rgbnt201'
        ...                             '.py', 'epoch_60.pth', device='cpu')
        >>> feats = inferencer([{'rgb': 'r.jpg', 'nir': 'n.jpg',
        ...                      'tir': 't.jpg'}])     # numpy [1, F]
    """

    #: Inputs longer than this get a progress bar by default.
    PROGRESS_MIN = 64

    def __init__(self,
                 config: Union[str, Config],
                 checkpoint: Optional[str] = None,
                 device: Optional[str] = None,
                 batch_size: int = 32,
                 num_workers: int = 0,
                 cfg_options: Optional[dict] = None,
                 one_modality_per_sample: Optional[bool] = None,
                 progress: Optional[bool] = None) -> None:
        register_all_modules()
        if isinstance(config, Config):
            cfg = copy.deepcopy(config)
            if cfg_options:
                cfg.merge_from_dict(cfg_options)
        else:
            if not osp.isfile(str(config)):
                raise FileNotFoundError(f'Config "{config}" does not exist.')
            cfg = load_config(str(config), cfg_options)
        self.cfg = cfg
        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}.')
        self.batch_size = int(batch_size)
        self.num_workers = int(num_workers)
        self.progress = progress
        self.device = torch.device(
            device or ('cuda' if torch.cuda.is_available() else 'cpu'))

        dataset_cfg = self._test_dataset_cfg(cfg)
        self.dataset_type = str(dataset_cfg.get('type'))
        self.modalities, self.stored_modalities = self._modalities(dataset_cfg)
        dataset_cls = _dataset_class(dataset_cfg)
        if one_modality_per_sample is None:
            bases = {c.__name__ for c in getattr(dataset_cls, '__mro__', ())}
            one_modality_per_sample = bool(bases & set(ONE_MODALITY_DATASETS))
        self.one_modality_per_sample = one_modality_per_sample
        steps = list(dataset_cfg.get('pipeline') or [])
        if not steps:
            raise ValueError('test_dataloader.dataset.pipeline of the config '
                             'is empty; the inferencer runs the test '
                             'pipeline.')
        self.caption_step = None
        kept = []
        for step in steps:
            if isinstance(step, dict) and step.get('type') == 'LoadCaptions':
                self.caption_step = TRANSFORMS.build(copy.deepcopy(step))
                continue
            kept.append(copy.deepcopy(step))
        self.is_video = any(
            isinstance(s, dict) and (s.get('type') == 'SampleFrames' or (
                s.get('type') == 'PackReIDInputs' and s.get('video')))
            for s in kept)
        self.tiles = next(
            (s.get('tiles') for s in kept
             if isinstance(s, dict) and s.get('type') == 'LoadMultiModalImages'
             ), None)
        self.pipeline = Compose(kept)

        self.model = MODELS.build(copy.deepcopy(cfg.model))
        if checkpoint is not None:
            self._load(checkpoint)
        self.checkpoint = checkpoint
        self.model.to(self.device)
        self.model.eval()

    # ------------------------------------------------------------ set-up
    @staticmethod
    def _test_dataset_cfg(cfg: Config) -> dict:
        loader = cfg.get('test_dataloader')
        if not loader or 'dataset' not in loader:
            raise KeyError('The config has no test_dataloader.dataset; the '
                           'inferencer takes its pipeline and modalities.')
        dataset = loader['dataset']
        while 'pipeline' not in dataset and 'dataset' in dataset:
            dataset = dataset['dataset']  # a wrapper (RepeatDataset ...)
        return dataset

    @staticmethod
    def _modalities(dataset_cfg: dict) -> Tuple[tuple, tuple]:
        cls = _dataset_class(dataset_cfg)
        stored = tuple(getattr(cls, 'METAINFO', {}).get('modalities') or ())
        chosen = dataset_cfg.get('modalities') or (dataset_cfg.get('metainfo')
                                                   or {}).get('modalities')
        if isinstance(chosen, str):
            chosen = (chosen, )
        modalities = tuple(chosen or stored)
        if not modalities:
            raise KeyError(
                f'Cannot tell the modalities of test dataset '
                f'{dataset_cfg.get("type")!r}: its class declares none in '
                "METAINFO['modalities'] and the config sets no modalities=.")
        return modalities, stored or modalities

    def _load(self, checkpoint: str) -> None:
        if '://' in str(checkpoint):
            raise ValueError(
                f'Checkpoint "{checkpoint}": only local files are read; '
                'download it first.')
        if not osp.isfile(checkpoint):
            raise FileNotFoundError(
                f'Checkpoint "{checkpoint}" does not exist.')
        load_checkpoint(
            self.model, checkpoint, map_location='cpu', strict=True)

    # ------------------------------------------------------------ inputs
    def expected_form(self) -> str:
        """The sample form this config takes, in words (for errors)."""
        value = '[frame paths]' if self.is_video else 'path'
        name = f'{self.dataset_type} {self.modalities}'
        if len(self.modalities) == 1:
            mod = self.modalities[0]
            one = 'list of frame paths' if self.is_video else 'path'
            return f"{name}: a {one} or {{'{mod}': {value}}}"
        if self.one_modality_per_sample:
            return (f'{name}: one modality per sample, '
                    f"{{modality: {value}}} with modality one of "
                    f'{self.modalities}')
        keys = ', '.join(f"'{m}': {value}" for m in self.modalities)
        extra = ' (or one path: the modalities are tiles of one file)' \
            if self.tiles else ''
        return f'{name}: every modality, {{{keys}}}{extra}'

    def _bad(self, index: int, what: str) -> InferenceInputError:
        return InferenceInputError(
            f'Input {index}: {what}. This config expects '
            f'{self.expected_form()}.')

    def _paths(self, index: int, sample: SampleInput) -> Dict[str, object]:
        """``{modality: path | [paths]}`` of one input, checked."""
        if isinstance(sample, str):
            if len(self.modalities) == 1:
                sample = {self.modalities[0]: sample}
            elif self.tiles:
                sample = {m: sample for m in self.modalities}
            else:
                raise self._bad(index, f'got the path {sample!r}')
        if isinstance(sample, (list, tuple)) and self.is_video \
                and len(self.modalities) == 1 and all(
                    isinstance(p, str) for p in sample):
            sample = {self.modalities[0]: list(sample)}
        if not isinstance(sample, dict) or not sample:
            raise self._bad(index, f'got {type(sample).__name__} {sample!r}')
        unknown = [m for m in sample if m not in self.modalities]
        if unknown:
            raise self._bad(index, f'unknown modalities {unknown}')
        if self.one_modality_per_sample and len(sample) != 1:
            raise self._bad(
                index, f'got {len(sample)} modalities '
                f'{sorted(sample)}')
        if not self.one_modality_per_sample:
            missing = [m for m in self.modalities if m not in sample]
            if missing:
                raise self._bad(index, f'modalities {missing} are missing')
        paths = {}
        for mod in self.modalities:
            if mod not in sample:
                continue
            value = sample[mod]
            if self.is_video:
                if isinstance(
                        value,
                        str) or not isinstance(value,
                                               (list, tuple)) or not value:
                    raise self._bad(
                        index, f'{mod} is {value!r}, not a non-empty list of '
                        'frame paths (the config is a video config)')
                value = [str(p) for p in value]
            elif not isinstance(value, str):
                raise self._bad(
                    index, f'{mod} is {type(value).__name__} {value!r}, not '
                    'one image path (the config is an image config)')
            paths[mod] = value
        return paths

    def _captions(self, index: int, paths: dict,
                  captions: Optional[dict]) -> Optional[dict]:
        step = self.caption_step
        if captions is None:
            if step is not None:
                raise InferenceInputError(
                    f'Input {index}: the model reads captions (the test '
                    'pipeline of the config has LoadCaptions) but none were '
                    'given; pass captions=[{modality: text}, ...], one dict '
                    f'per input with the modalities {sorted(paths)}.')
            return None
        if not isinstance(captions, dict):
            raise InferenceInputError(
                f'Input {index}: captions must be {{modality: text}}, got '
                f'{type(captions).__name__}.')
        wanted = (
            step.modalities
            if step is not None and step.modalities else tuple(paths))
        missing = [m for m in wanted if not isinstance(captions.get(m), str)]
        if missing and step is not None:
            raise InferenceInputError(
                f'Input {index}: no caption for modalities {missing} (got '
                f'{sorted(captions)}); the model reads one caption per '
                f'modality {tuple(wanted)}.')
        out = {}
        for mod, text in captions.items():
            if step is not None and step.overflow != 'none':
                text = fit_to_context(text, step._count_tokens,
                                      step.context_length, step.overflow,
                                      f'input {index} [{mod}]')
            out[mod] = text
        return out

    def build_info(self,
                   index: int,
                   sample: SampleInput,
                   captions: Optional[dict] = None) -> dict:
        """The info dict of one input, as a dataset would give it."""
        paths = self._paths(index, sample)
        info = dict(
            img_path=paths,
            rel_img_path=copy.deepcopy(paths),
            modalities=tuple(paths),
            stored_modalities=self.stored_modalities,
            pid=-1,
            camid=-1,
            scene_id=-1,
            is_query=False,
            is_gallery=False,
            sample_idx=index)
        if len(paths) == 1:
            info['modality'] = next(iter(paths))
        first = next(iter(paths.values()))
        if isinstance(first, list):
            info['num_frames_total'] = len(first)
        texts = self._captions(index, paths, captions)
        if texts is not None:
            info['captions'] = texts
            if self.caption_step is not None and \
                    self.caption_step.attach_sentences:
                info['caption_sentences'] = {
                    m: split_sentences(t)
                    for m, t in texts.items()
                }
        return info

    # ------------------------------------------------------------ running
    @torch.no_grad()
    def forward_batch(self, batch: List[dict]) -> torch.Tensor:
        """Packed samples (pipeline outputs) -> features ``[B, F]``.

        The model's own ``test_step``: its data preprocessor, then
        ``predict``; the features are moved to the CPU.
        """
        samples = self.model.test_step(pseudo_collate(batch))
        return torch.stack([s.pred_feature.float().cpu() for s in samples])

    def _show_progress(self, num: int) -> bool:
        if self.progress is None:
            return num > self.PROGRESS_MIN
        return bool(self.progress)

    def infer_infos(self,
                    infos: Sequence[dict],
                    batch_size: Optional[int] = None,
                    desc: str = 'features') -> torch.Tensor:
        """Features ``[N, F]`` (CPU float tensor) of dataset info dicts."""
        loader = DataLoader(
            _PipelineInputs(list(infos), self.pipeline),
            batch_size=batch_size or self.batch_size,
            num_workers=self.num_workers,
            collate_fn=list,
            shuffle=False)
        return self._run(loader, len(infos), desc)

    def infer_dataset(self,
                      dataset: Dataset,
                      batch_size: Optional[int] = None,
                      desc: str = 'features') -> torch.Tensor:
        """Features ``[N, F]`` (CPU float tensor) of a built dataset whose
        ``pipeline`` is the test pipeline (``LoadCaptions`` included), in
        index order: what ``tools/test.py`` computes for its samples."""
        loader = DataLoader(
            dataset,
            batch_size=batch_size or self.batch_size,
            num_workers=self.num_workers,
            collate_fn=list,
            shuffle=False)
        return self._run(loader, len(dataset), desc)

    def _run(self, loader: DataLoader, num: int, desc: str) -> torch.Tensor:
        feats = []
        bar = tqdm(
            total=num,
            desc=desc,
            unit='sample',
            disable=not self._show_progress(num))
        with bar:
            for batch in loader:
                feats.append(self.forward_batch(batch))
                bar.update(len(batch))
        if not feats:
            raise ValueError('No inputs were given.')
        return torch.cat(feats)

    def __call__(self,
                 inputs: Union[SampleInput, Sequence[SampleInput]],
                 captions: Union[None, dict, Sequence[dict]] = None,
                 batch_size: Optional[int] = None,
                 return_numpy: bool = True) -> Union[np.ndarray, torch.Tensor]:
        """Features of ``inputs``.

        Args:
            inputs: One sample or a list of samples (forms in the class
                docstring).
            captions: ``{modality: text}`` for one sample, or a list (one
                dict per sample, same order).
            batch_size (int, optional): Overrides the constructor's.
            return_numpy (bool): numpy ``float32 [N, F]`` (default) or a CPU
                ``torch.float32`` tensor ``[N, F]``.

        Returns:
            ``[N, F]`` features (``N`` = number of samples; a single sample
            gives ``[1, F]``), in input order, as the model ranks them
            (not normalised: the evaluator's ``feat_norm`` applies when
            distances are computed).
        """
        # a flat list of paths is one tracklet for a single-modality
        # video config, else a list of images
        single = isinstance(
            inputs,
            (str, dict)) or (self.is_video and len(self.modalities) == 1
                             and isinstance(inputs,
                                            (list, tuple)) and bool(inputs)
                             and all(isinstance(p, str) for p in inputs))
        samples = [inputs] if single else list(inputs)
        if captions is None or isinstance(captions, dict):
            texts = [captions] * len(samples) if (captions is None
                                                  or single) else None
            if texts is None:
                raise InferenceInputError(
                    f'captions: give one {{modality: text}} dict per input '
                    f'(a list of {len(samples)}), not one dict for all.')
        else:
            texts = list(captions)
            if len(texts) != len(samples):
                raise InferenceInputError(
                    f'captions: {len(texts)} caption dicts for '
                    f'{len(samples)} inputs; give one per input.')
        infos = [
            self.build_info(i, s, t)
            for i, (s, t) in enumerate(zip(samples, texts))
        ]
        feats = self.infer_infos(infos, batch_size)
        return feats.numpy() if return_numpy else feats
