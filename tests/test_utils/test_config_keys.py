# Copyright (c) mmreid_text contributors. All rights reserved.
import pytest
from mmengine.config import Config

from mmreid_text.utils import check_config_keys

CFG = Config(
    dict(
        model=dict(backbone=dict(type='X', pretrained=None)),
        train_cfg=dict(max_epochs=3),
        train_dataloader=dict(dataset=dict(pipeline=[dict(type='A')]))))


def test_known_and_new_leaf_keys_pass():
    check_config_keys(CFG, [
        'train_cfg.max_epochs', 'model.backbone.frozen',
        'train_dataloader.dataset.pipeline.0.type', 'load_from'
    ])


@pytest.mark.parametrize('key,hint', [
    ('train_cfgg.max_epochs', 'train_cfg'),
    ('model.backbon.pretrained', 'backbone'),
    ('modell', 'model'),
])
def test_typos_fail_with_a_hint(key, hint):
    with pytest.raises(KeyError) as err:
        check_config_keys(CFG, [key])
    assert key in str(err.value) and hint in str(err.value)


def test_list_index_out_of_range():
    with pytest.raises(KeyError, match='out of range'):
        check_config_keys(CFG, ['train_dataloader.dataset.pipeline.3.type'])
