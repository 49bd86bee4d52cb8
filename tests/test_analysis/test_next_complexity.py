# Copyright (c) mmreid_text contributors. All rights reserved.
"""Architectural fidelity of NEXT against its paper (Tables IV, VIII):
tools/analysis_tools/get_flops.py on next_vitb16_rgbnt201.py, with and
without text, the triple-stream baseline, and the per-component parameter
table of configs/next/README.md ("Size")."""
import os.path as osp
import sys

import pytest
from mmengine.config import Config

from mmreid_text.analysis.complexity import model_complexity
from mmreid_text.registry import MODELS
from mmreid_text.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MAIN = osp.join(REPO, 'configs', 'next', 'next_vitb16_rgbnt201.py')
BASELINE = osp.join(REPO, 'configs', 'next', 'ablations',
                    'next_vitb16_rgbnt201_t4a_baseline.py')
register_all_modules()
# Distinct per-modality captions, as in the data (no released triplet has
# three identical captions): SampledCaptionEncoder encodes identical texts
# once, so one caption for all modalities would count one text encoding.
CAPTIONS = {
    'rgb': 'A man in a red coat. He wears black trousers.',
    'nir': 'A man in a bright coat. He carries a bag.',
    'tir': 'A warm figure walking. He carries a bag.',
}
# configs/next/README.md, "Size": learnable parameters of ours
LEARNABLE = dict(
    next=95_093_269,
    baseline=86_404_608,
    tmse=3_956_754,
    csse=1_580_547,
    mgfa=3_151_360)


def _model_cfg(path, **text):
    model = Config.fromfile(path).model.to_dict()
    for neck in model.get('necks', []):
        if neck['type'] == 'SampledCaptionEncoder':
            neck.update(text)
    return model


@pytest.fixture(scope='module')
def next_with_text():
    """get_flops itself, with the paper's convention: texts encoded over
    the full 77-token context (trim_context=False)."""
    sys.path.insert(0, osp.join(REPO, 'tools', 'analysis_tools'))
    try:
        import get_flops
    finally:
        sys.path.pop(0)
    return get_flops.main([
        MAIN, '--cfg-options', 'model.necks.0.trim_context=False', '--caption',
        *[f'{m}={c}' for m, c in CAPTIONS.items()]
    ])


def test_next_rgbnt201_matches_the_paper(next_with_text):
    """Table VIII: 94.8 M learnable (2 %), 44.8 GFLOPs with text (3 %)."""
    assert round(next_with_text['learnable_params_m'] * 1e6) == \
        pytest.approx(LEARNABLE['next'], abs=60)
    assert abs(next_with_text['learnable_params_m'] - 94.8) / 94.8 < 0.02
    assert abs(next_with_text['gflops'] - 44.8) / 44.8 < 0.03
    # the frozen text encoder counts in FLOPs, not in learnable parameters
    assert next_with_text[
        'params_m'] > next_with_text['learnable_params_m'] + 60


def test_next_without_text_matches_the_paper(next_with_text):
    """Table VIII "NEXT (w/o Text)": 36.0 GFLOPs (3 %); the three text
    encodings are the paper's +8.8 G."""
    without = model_complexity(
        _model_cfg(MAIN, trim_context=False, test_text=False),
        caption=CAPTIONS)
    assert abs(without.flops / 1e9 - 36.0) / 36.0 < 0.03
    text = next_with_text['gflops'] - without.flops / 1e9
    assert abs(text - 8.8) / 8.8 < 0.03, text
    assert round(without.learnable_params) == LEARNABLE['next']


def test_one_caption_for_all_modalities_counts_one_text(next_with_text):
    """The shipped default (trimmed context) with one caption: identical
    texts are encoded once, far below the paper's count."""
    shared = model_complexity(
        _model_cfg(MAIN), caption='A man in a red coat. He carries a bag.')
    assert shared.flops / 1e9 < next_with_text['gflops'] - 5.0


def test_baseline_and_the_parameter_table():
    """Table IV (a) 88.3 M / 33.3 G: FLOPs within 3 %; ours has 1.9 M
    (2.2 %) fewer parameters - the CLIP ViT-B/16 visual encoder and the
    BNNeck / classifier, nothing to remove - which the README's table
    documents next to the paper's per-module increments."""
    baseline = model_complexity(_model_cfg(BASELINE))
    assert abs(baseline.flops / 1e9 - 33.3) / 33.3 < 0.03
    assert baseline.learnable_params == LEARNABLE['baseline']
    assert 0.02 < (88.3e6 - baseline.learnable_params) / 88.3e6 < 0.025
    cfg = _model_cfg(MAIN)
    cfg['backbone']['pretrained'] = None
    cfg['text_encoder']['pretrained'] = None
    model = MODELS.build(cfg)

    def learnable(module):
        return sum(p.numel() for p in module.parameters() if p.requires_grad)

    assert learnable(model.necks[0]) == 0  # the shared frozen encoder
    assert learnable(model.necks[1]) == LEARNABLE['tmse']
    assert learnable(model.necks[2]) == LEARNABLE['csse']
    assert learnable(model.necks[3]) == LEARNABLE['mgfa']
    assert learnable(model) == LEARNABLE['next'] == (
        LEARNABLE['baseline'] + LEARNABLE['tmse'] + LEARNABLE['csse'] +
        LEARNABLE['mgfa'])


def test_get_flops_caption_argument():
    sys.path.insert(0, osp.join(REPO, 'tools', 'analysis_tools'))
    try:
        import get_flops
    finally:
        sys.path.pop(0)
    assert get_flops.parse_caption(None) is None
    assert get_flops.parse_caption(['a man. x=y.']) == 'a man. x=y.'
    assert get_flops.parse_caption(['rgb=a man.', 'tir=a warm man.']) == {
        'rgb': 'a man.',
        'tir': 'a warm man.'
    }
    with pytest.raises(SystemExit, match='MODALITY=CAPTION'):
        get_flops.parse_caption(['rgb=a man.', 'a warm man.'])
