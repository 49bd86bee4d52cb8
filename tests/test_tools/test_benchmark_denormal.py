# Copyright (c) mmreid_text contributors. All rights reserved.
"""benchmarks/benchmark_denormal.py: the denormal count (nothing timed)."""
import collections
import os.path as osp
import sys

import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'benchmarks'))

import benchmark_denormal  # noqa: E402


def test_subnormals_counts_only_nonzero_values_below_tiny():
    tiny = torch.finfo(torch.float32).tiny
    t = torch.tensor([0.0, tiny, tiny / 4, -tiny / 8, 1.0])
    assert benchmark_denormal.subnormals(t) == 2
    assert benchmark_denormal.subnormals(t.double() / 4) == 0  # float32 only


def test_hooks_count_forward_outputs_and_output_gradients():
    tiny = torch.finfo(torch.float32).tiny
    model = torch.nn.Sequential(torch.nn.Linear(2, 2, bias=False))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[tiny / 4, 0.0], [0.0, 1.0]]))
    counts = collections.Counter()
    handles = benchmark_denormal.add_counting_hooks(model, counts)
    out = model(torch.ones(1, 2, requires_grad=True))  # [tiny/4, 1]
    (out * torch.tensor([[1.0, tiny / 2]])).sum().backward()
    assert counts['forward  0'] == 1  # the first output
    assert counts['backward 0'] == 1  # d loss / d out = [1, tiny/2]
    for h in handles:
        h.remove()
