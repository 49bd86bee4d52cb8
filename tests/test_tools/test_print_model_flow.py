# Copyright (c) mmreid_text contributors. All rights reserved.
"""tools/misc/print_model_flow.py on the tiny configs."""
import os.path as osp

import pytest
from mmengine.config import Config

from mmreid_text.models.necks import SemanticGuidedSpectralFusion
from mmreid_text.models.utils import get_clip_arch_config
from mmreid_text.registry import MODELS
from .conftest import REPO, TINY_CONFIG, run_tool

TOOL = osp.join(REPO, 'tools', 'misc', 'print_model_flow.py')
DEEP_TINY = osp.join(REPO, 'configs', 'deep',
                     'deep_tiny_synthetic_rgbnt201.py')


def parse_table(text, header_start):
    """``[(position, component, [reads], [writes])]`` or, for the loss
    table, ``[[cells]]``, sliced at the header's column offsets."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines)
                 if line.startswith(header_start))
    header = lines[start]
    names = header.split()
    offsets = [header.index(name) for name in names] + [None]
    rows = []
    for line in lines[start + 2:]:
        if not line.strip():
            break
        rows.append([
            line[offsets[i]:offsets[i + 1]].strip() for i in range(len(names))
        ])
    return rows


def component_blocks(text):
    blocks = []
    for cells in parse_table(text, 'position'):
        if cells[0]:
            blocks.append((cells[0], cells[1], [], []))
        for index, column in ((2, 2), (3, 3)):
            if cells[index] and cells[index] != '-':
                blocks[-1][column].append(cells[index])
    return blocks


def test_deep_tiny_flow(capsys, load_tool):
    cfg = Config.fromfile(DEEP_TINY)
    c, n = cfg.embed_dims, cfg.num_patches
    height, width = cfg.model.backbone.img_size
    patch = get_clip_arch_config(
        cfg.model.backbone.arch)['vision_cfg']['patch_size']
    grid = (height // patch, width // patch)
    assert grid[0] * grid[1] == n
    assert load_tool('tools/misc/print_model_flow.py').main([DEEP_TINY]) == 0
    out = capsys.readouterr().out
    assert (f'inputs [4, 3, 3, {height}, {width}], mode loss (training)'
            in out)
    blocks = component_blocks(out)
    assert [(b[0], b[1]) for b in blocks] == [
        ('backbone', 'CLIPVisionBackbone'),
        ('necks[0]', 'SpectralInversionPrompt'),
        ('necks[1]', 'SemanticGuidedSpectralFusion'),
        ('necks[2]', 'SpectralSemanticEmbedding'),
        ('head', 'DEEPHead'),
    ]
    backbone, prompt, sgsf, sse, head = blocks
    assert backbone[2] == []
    assert backbone[3] == [
        f'cls [4, 3, {c}]', f'tokens [4, 3, {n}, {c}]',
        f'proj_cls [4, 3, {c}]', f'proj_tokens [4, 3, {n}, {c}]',
        f'grid {grid}'
    ]
    assert prompt[2:] == ([f'proj_cls [4, 3, {c}]'],
                          [f'text [4, 3, {c}]', 'text_mask [4, 3]'])
    assert sgsf[2:] == ([
        f'proj_cls [4, 3, {c}]', f'proj_tokens [4, 3, {n}, {c}]'
    ], [f'fused [4, 3, {c}]'])
    assert sse[2] == [
        f'fused [4, 3, {c}]', f'proj_tokens [4, 3, {n}, {c}]',
        f'text [4, 3, {c}]', 'text_mask [4, 3]'
    ]
    assert sse[3] == [
        f'embedded [4, 3, {c}]', f'embedded_text [4, 3, {c}]',
        f'structure_attention [4, {n}]', f'patch_order [4, {n}]'
    ]
    assert head[2] == [f'embedded [4, 3, {c}]', f'text [4, 3, {c}]']
    assert head[3] == [
        f'global_feat [4, {3 * c}]', f'bn_feat [4, {3 * c}]',
        'logits [4, 60] (train)', f'retrieval [4, {6 * c}]'
    ]
    losses = parse_table(out, 'loss')
    assert [row[:4] for row in losses] == [
        ['id', 'CrossEntropyLoss', '1', 'logits [4, 60], labels [4]'],
        [
            'triplet', 'TripletLoss', '1', f'global_feat [4, {3 * c}], '
            'labels [4]'
        ],
        [
            'supcon', 'SupConLoss', '0.5', f'fused [4, 3, {c}], '
            f'text [4, 3, {c}], labels [4]'
        ],
    ]
    assert all(float(row[4]) >= 0 for row in losses)
    assert 'declarations that differ' not in out


def test_baseline_predict_with_cfg_options_and_missing_weights(
        capsys, load_tool):
    c = Config.fromfile(TINY_CONFIG).model.head.in_channels
    code = load_tool('tools/misc/print_model_flow.py').main([
        TINY_CONFIG, '--mode', 'predict', '--batch-size', '2', '--cfg-options',
        'model.head.fuse=per_modality',
        'model.backbone.pretrained=no/such/ViT-B-16.pt'
    ])
    assert code == 0
    out = capsys.readouterr().out
    assert ("note: no such file, random init instead: "
            "model.backbone.pretrained='no/such/ViT-B-16.pt'") in out
    assert 'mode predict (eval)' in out
    blocks = component_blocks(out)
    assert [b[0] for b in blocks] == ['backbone', 'head']
    head = blocks[1]
    # per-modality BNNecks: lists of 3 features; no logits at test time
    assert head[3] == [
        f'global_feat 3 x [2, {c}]', f'bn_feat 3 x [2, {c}]',
        f'retrieval [2, {3 * c}]'
    ]
    assert '\nloss ' not in out


class _FlowTestDriftedFusion(SemanticGuidedSpectralFusion):
    """Declares a key its forward does not write."""

    @property
    def writes(self):
        return ('fused', 'extra')


@pytest.fixture
def drifted():
    MODELS.register_module(module=_FlowTestDriftedFusion, force=True)
    yield '_FlowTestDriftedFusion'
    MODELS.module_dict.pop('_FlowTestDriftedFusion')


def test_drifted_declaration_exits_1(capsys, drifted, load_tool):
    code = load_tool('tools/misc/print_model_flow.py').main(
        [DEEP_TINY, '--cfg-options', f'model.necks.1.type={drifted}'])
    out = capsys.readouterr().out
    assert code == 1
    assert ('declarations that differ from the forward pass:\n'
            f"  necks[1] {drifted}: declares writes ['extra', 'fused'] but "
            "wrote ['fused']") in out


def test_command_line(tmp_path):
    out = run_tool([TOOL, DEEP_TINY, '--batch-size', '2'], cwd=str(tmp_path))
    assert 'necks[2]  SpectralSemanticEmbedding' in out
    assert 'supcon' in out
