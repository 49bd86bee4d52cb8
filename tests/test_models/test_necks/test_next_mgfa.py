# Copyright (c) mmreid_text contributors. All rights reserved.
"""NEXT MGFA (Eq. 10-11): average over experts of the class-token
cross-attention, expert gathering, shared vs per-expert blocks."""
import pytest
import torch

from mmreid_text.models.necks.next_mgfa import MultiGrainedFeatureAggregation
from mmreid_text.models.utils.feature_contract import (FeatureAccessRecorder,
                                                       get_feature_keys,
                                                       written_keys)

B, M, N, D, K = 2, 3, 2, 4, 3


def feats():
    torch.manual_seed(0)
    return dict(
        proj_cls=torch.randn(B, M, D),
        proj_tokens=torch.randn(B, M, N, D),
        next_semantic=torch.randn(B, K, M * N, D),
        next_structure=torch.randn(B, M * N, D))


def test_average_over_experts_of_one_shared_block():
    """f = mean_i FFN(LN(CA(f_cls, F^exp(i)))), i over the K semantic
    experts and the structure feature (Eq. 10-11)."""
    module = MultiGrainedFeatureAggregation(embed_dims=D, num_heads=2).eval()
    assert len(module.blocks) == 1
    f = feats()
    out = module(f)['next_identity']
    assert out.shape == (B, M, D)
    block = module.blocks[0]
    experts = list(f['next_semantic'].unbind(1)) + [f['next_structure']]
    expected = torch.stack([block(f['proj_cls'], e) for e in experts]).mean(0)
    assert torch.allclose(out, expected, atol=1e-5)
    # the average is not dominated by one expert: dropping one changes it
    only = MultiGrainedFeatureAggregation(
        embed_dims=D, num_heads=2, expert_keys=('next_semantic', )).eval()
    only.load_state_dict(module.state_dict())
    assert not torch.allclose(only(f)['next_identity'], out)
    assert torch.allclose(
        only(f)['next_identity'],
        torch.stack([block(f['proj_cls'], e) for e in experts[:K]]).mean(0),
        atol=1e-5)


def test_per_expert_blocks_and_unified_expert_of_table_iv_b():
    module = MultiGrainedFeatureAggregation(
        embed_dims=D, num_heads=2, share_blocks=False, num_experts=K + 1)
    module.eval()
    f = feats()
    experts = list(f['next_semantic'].unbind(1)) + [f['next_structure']]
    expected = torch.stack([
        block(f['proj_cls'], e) for block, e in zip(module.blocks, experts)
    ]).mean(0)
    assert torch.allclose(module(f)['next_identity'], expected, atol=1e-5)
    with pytest.raises(ValueError, match='num_experts'):
        MultiGrainedFeatureAggregation(share_blocks=False)
    wrong = MultiGrainedFeatureAggregation(
        embed_dims=D, num_heads=2, share_blocks=False, num_experts=2)
    with pytest.raises(ValueError, match='2 blocks'):
        wrong(f)
    # Table IV (b): the concatenated patch tokens as the only expert
    unified = MultiGrainedFeatureAggregation(
        embed_dims=D,
        num_heads=2,
        expert_keys=(),
        modality_token_keys=('proj_tokens', )).eval()
    out = unified(f)['next_identity']
    block = unified.blocks[0]
    assert torch.allclose(
        out,
        block(f['proj_cls'], f['proj_tokens'].reshape(B, M * N, D)),
        atol=1e-5)


def test_experts_of_different_lengths_and_gradients():
    module = MultiGrainedFeatureAggregation(
        embed_dims=D, num_heads=2,
        modality_token_keys=('proj_tokens', )).eval()
    f = feats()
    f['next_structure'] = torch.randn(B, 5, D)  # another length
    for value in f.values():
        value.requires_grad_(True)
    out = module(f)['next_identity']
    block = module.blocks[0]
    experts = list(f['next_semantic'].unbind(1)) + [
        f['next_structure'], f['proj_tokens'].flatten(1, 2)
    ]
    expected = torch.stack([block(f['proj_cls'], e) for e in experts]).mean(0)
    assert torch.allclose(out, expected, atol=1e-5)
    out.sum().backward()
    for key, value in f.items():
        assert float(value.grad.abs().sum()) > 0, key


def test_declarations_equal_forward_and_errors():
    module = MultiGrainedFeatureAggregation(embed_dims=D, num_heads=2)
    f = feats()
    recorder = FeatureAccessRecorder(f)
    out = module(recorder)
    keys = get_feature_keys(module)
    assert recorder.accessed == set(
        keys.reads) == {'proj_cls', 'next_semantic', 'next_structure'}
    assert set(written_keys(f, out)) == set(keys.writes) == {'next_identity'}
    f['next_structure'] = torch.randn(B, M * N, D + 1)
    with pytest.raises(ValueError, match='next_structure'):
        module(f)
    with pytest.raises(ValueError, match='no experts'):
        MultiGrainedFeatureAggregation(expert_keys=())
