# Copyright (c) mmreid_text contributors. All rights reserved.
"""docs/config_guide.md's feature-key table lists exactly the keys the
package's components write (under default key arguments), with their
producers, and every backbone / neck / head declares its keys."""
import os.path as osp
import re

import pytest

from mmreid_text.models.reid_model import LABELS_KEY, SAMPLE_MODALITIES_KEY
from mmreid_text.models.utils import tiny_clip_arch
from mmreid_text.models.utils.feature_contract import (FeatureContract,
                                                       get_feature_keys)
from mmreid_text.registry import MODELS
from mmreid_text.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
GUIDE = osp.join(REPO, 'docs', 'config_guide.md')
register_all_modules()

#: Packages whose registered classes read / write the feature dict.
COMPONENT_PACKAGES = ('mmreid_text.models.backbones.',
                      'mmreid_text.models.necks.', 'mmreid_text.models.heads.',
                      'mmreid_text.models.text.prompt_learners.')

#: Build arguments per component: the defaults plus what is required. Every
#: variant whose writes differ is listed (ViT / ViT with out_layers /
#: ModifiedResNet); the tiny archs write the same keys as ViT-B-16 / RN50.
VARIANTS = {
    'CLIPVisionBackbone': [
        dict(arch=tiny_clip_arch('vit'), img_size=(64, 32)),
        dict(arch=tiny_clip_arch('vit'), img_size=(64, 32), out_layers=(1, )),
        dict(arch=tiny_clip_arch('resnet'), img_size=(64, 32)),
        dict(
            arch=tiny_clip_arch('resnet'),
            img_size=(64, 32),
            modalities=('vis', 'ir'),
            modality_stems=True),
        dict(
            arch=tiny_clip_arch('vit'),
            img_size=(64, 32),
            hub=dict(start_layer=1, num_frames=2)),
    ],
    # torchreid's osnet_x0_25 (small); every supported arch writes the same
    'TorchreidBackbone': [dict(name='osnet_x0_25')],
    'SemanticGuidedSpectralFusion': [dict()],
    'SpectralSemanticEmbedding': [dict()],
    'LinearWeightFusion': [dict()],
    'ConvFusion': [dict()],
    'SpectralInversionPrompt': [dict()],
    'BNNeckHead': [dict(in_channels=8, num_classes=2)],
    'DEEPHead': [dict(in_channels=8, num_classes=2)],
    'SpatialTemporalAggregation': [dict()],
    'TemporalPooling': [dict()],
    'GeMPooling': [dict()],
    'CaptionTextEncoder': [dict()],
    'CrossViewFusion': [dict()],
    'TemporalConv1D': [dict()],
    'TemporalTransformer': [dict(num_layers=1)],
    'IdentityPrompt': [dict(num_ids=2)],
    'SampledCaptionEncoder': [dict()],
    'TextModulatedSemanticExperts': [dict(),
                                     dict(threshold_mode='all')],
    'ContextSharedStructureExperts': [dict()],
    'MultiGrainedFeatureAggregation': [dict()],
    'VLDHead': [
        dict(in_channels=8, num_classes=2),
        dict(in_channels=8, num_classes=2, proj_key='seq_proj_cls'),
    ],
}


def component_classes():
    return {
        name: cls
        for name, cls in MODELS.module_dict.items()
        if cls.__module__.startswith(COMPONENT_PACKAGES) or (
            cls.__module__.startswith('mmreid_text.')
            and issubclass(cls, FeatureContract))
    }


def table_rows():
    """``{key: {producer class names}}`` from the guide's key table."""
    with open(GUIDE, encoding='utf-8') as f:
        lines = f.read().splitlines()
    start = lines.index('| key | shape | produced by |')
    rows = {}
    for line in lines[start + 2:]:
        if not line.startswith('|'):
            break
        cells = [c.strip() for c in line.strip('|').split('|')]
        assert len(cells) == 3, line
        producers = set(re.findall(r'`([A-Za-z_]\w*)`', cells[2]))
        for key in re.findall(r'`([^`]+)`', cells[0]):
            assert key not in rows, f'{key} is listed twice'
            rows[key] = producers
    return rows


def code_writes():
    """``{key: {class names}}`` written by the registered components."""
    writes = {LABELS_KEY: {'ReIDModel'}, SAMPLE_MODALITIES_KEY: {'ReIDModel'}}
    for name, cls in component_classes().items():
        for kwargs in VARIANTS[name]:
            keys = get_feature_keys(cls(**kwargs))
            for key in (*keys.writes, *keys.train_writes):
                # out_layers keys: one row layer{i}_cls
                key = re.sub(r'^layer\d+_cls$', 'layer{i}_cls', key)
                writes.setdefault(key, set()).add(name)
    return writes


def test_every_component_is_declared_and_covered():
    classes = component_classes()
    assert set(classes) == set(VARIANTS), (
        'A backbone / neck / head was added or removed: list its build '
        'arguments in VARIANTS and its keys in docs/config_guide.md.')
    for name, cls in classes.items():
        for kwargs in VARIANTS[name]:
            assert get_feature_keys(cls(**kwargs)) is not None, (
                f'{name} declares no feature keys (reads / writes).')


def test_key_table_lists_every_written_key_and_nothing_else():
    table = table_rows()
    code = code_writes()
    undocumented = sorted(set(code) - set(table))
    stale = sorted(set(table) - set(code))
    assert not undocumented, (
        f'keys written but missing from {GUIDE}: {undocumented}')
    assert not stale, f'keys in {GUIDE} that nothing writes: {stale}'
    for key in sorted(code):
        assert table[key] == code[key], (
            f'{GUIDE}: "{key}" is produced by {sorted(code[key])}, the '
            f'table says {sorted(table[key])}')


@pytest.mark.parametrize('key', [
    'fused', 'embedded', 'text_mask', 'embedded_text', 'structure_attention',
    'patch_order'
])
def test_table_has_the_keys_the_issue_found_missing(key):
    assert key in table_rows()
