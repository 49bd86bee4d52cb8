# Copyright (c) mmreid_text contributors. All rights reserved.
"""TorchreidImageDataset: torchreid's parsers, our info dicts, no download.

The layouts are written in tmp (Market-1501 and DukeMTMC-reID folder and
file names, 16x8 images); nothing is ever fetched.
"""
import os
import os.path as osp
import re

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmengine.optim import OptimWrapper
from mmengine.runner import Runner
from PIL import Image

from mmreid_text.datasets.torchreid_dataset import (
    TorchreidDatasetMissingError, TorchreidImageDataset)
from mmreid_text.registry import DATASETS, MODELS
from mmreid_text.utils import register_all_modules

register_all_modules()

#: ``{folder: [(pid, cam), ...]}`` of the synthetic Market-1501: 3 train
#: ids, 2 test ids seen by 2 cameras, a distractor (0) and junk (-1).
MARKET = {
    'bounding_box_train': [(1, 1), (1, 2), (3, 1), (3, 3), (7, 2), (7, 4)],
    'query': [(10, 1), (12, 2)],
    'bounding_box_test': [(10, 2), (10, 3), (12, 1), (12, 5), (0, 1), (-1, 2)],
}
DUKE = {
    'bounding_box_train': [(5, 1), (5, 2), (9, 3), (9, 4)],
    'query': [(20, 1), (21, 2)],
    'bounding_box_test': [(20, 2), (21, 1), (21, 3), (30, 4)],
}


def write_images(folder, shots, duke=False, size=(16, 8), seed=0):
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    for index, (pid, cam) in enumerate(shots):
        if duke:
            name = f'{pid:04d}_c{cam}_f{index:07d}.jpg'
        else:
            pid_text = '-1' if pid == -1 else f'{pid:04d}'
            name = f'{pid_text}_c{cam}s1_{index:06d}_01.jpg'
        arr = rng.integers(0, 255, (*size, 3), dtype=np.uint8)
        Image.fromarray(arr).save(osp.join(folder, name))


def write_market(root):
    base = osp.join(root, 'market1501', 'Market-1501-v15.09.15')
    for folder, shots in MARKET.items():
        write_images(osp.join(base, folder), shots)


def write_duke(root):
    base = osp.join(root, 'dukemtmc-reid', 'DukeMTMC-reID')
    for folder, shots in DUKE.items():
        write_images(osp.join(base, folder), shots, duke=True)


@pytest.fixture
def reid_root(tmp_path):
    root = str(tmp_path / 'reid-data')
    write_market(root)
    write_duke(root)
    return root


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any download attempt fails the test."""
    from mmreid_text.utils.torchreid_compat import import_torchreid
    import_torchreid()
    import torchreid.reid.utils.tools as tools

    def refuse(*args, **kwargs):
        raise AssertionError(f'download attempted: {args}')

    monkeypatch.setattr(tools, 'download_url', refuse)
    import torchreid.reid.data.datasets.dataset as dataset_module
    monkeypatch.setattr(dataset_module, 'download_url', refuse)


def build(root, split, name='market1501', **kwargs):
    return DATASETS.build(
        dict(
            type='TorchreidImageDataset',
            name=name,
            data_root=root,
            split=split,
            **kwargs))


def test_train_split_is_one_modality_and_relabelled(reid_root):
    ds = build(reid_root, 'train')
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    assert len(infos) == 6
    assert ds.metainfo['modalities'] == ('rgb', )
    assert ds.name == 'market1501'
    assert sorted({i['pid'] for i in infos}) == [0, 1, 2]
    paths = [i['img_path']['rgb'] for i in infos]
    assert paths == sorted(paths)
    first = infos[0]
    assert first['modalities'] == ('rgb', ) and first['modality'] == 'rgb'
    assert first['camid'] == 0  # c1 -> 0
    assert first['rel_img_path']['rgb'] == osp.join('market1501',
                                                    'Market-1501-v15.09.15',
                                                    'bounding_box_train',
                                                    osp.basename(paths[0]))
    # raw 1, 3, 7 -> 0, 1, 2: the same identity keeps one label
    by_name = {osp.basename(i['img_path']['rgb'])[:4]: i['pid'] for i in infos}
    assert by_name == {'0001': 0, '0003': 1, '0007': 2}
    assert not ds.test_mode


def test_test_split_is_query_then_gallery(reid_root):
    ds = build(reid_root, 'test')
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    assert ds.test_mode
    assert [i['is_query'] for i in infos] == [True] * 2 + [False] * 5
    assert [i['is_gallery'] for i in infos] == [False] * 2 + [True] * 5
    # raw ids; the distractor 0 stays, the junk -1 is dropped (torchreid)
    assert [i['pid'] for i in infos[:2]] == [10, 12]
    assert sorted(i['pid'] for i in infos[2:]) == [0, 10, 10, 12, 12]
    assert sorted(i['camid'] for i in infos[2:]) == [0, 0, 1, 2, 4]
    query = build(reid_root, 'query')
    gallery = build(reid_root, 'gallery')
    assert len(query) == 2 and len(gallery) == 5
    assert all(query.get_data_info(i)['is_query'] for i in range(2))


def test_holdout_of_training_identities(reid_root):
    """The model-selection split works as for the other datasets."""
    holdout = dict(num_ids=1, seed=0)
    train = build(reid_root, 'train', holdout=dict(holdout, part='train'))
    val = build(reid_root, 'train', holdout=dict(holdout, part='val'))
    assert len(train) == 4 and len(val) == 2
    infos = [val.get_data_info(i) for i in range(2)]
    assert all(i['is_query'] and i['is_gallery'] for i in infos)
    assert len({i['pid'] for i in infos}) == 1
    assert len({i['camid'] for i in infos}) == 2


def test_dataset_kwargs_and_modality_name(reid_root):
    ds = build(reid_root, 'test', name='dukemtmcreid', modality='visible')
    info = ds.get_data_info(0)
    assert list(info['img_path']) == ['visible']
    assert ds.metainfo['modalities'] == ('visible', )
    with pytest.raises(ValueError, match="may not set 'root'"):
        build(reid_root, 'train', dataset_kwargs=dict(root='x'))


def test_missing_dataset_folder_fails_without_downloading(tmp_path):
    root = str(tmp_path / 'empty')
    os.makedirs(root)
    with pytest.raises(TorchreidDatasetMissingError) as err:
        build(root, 'train')
    message = str(err.value)
    assert osp.join(root, 'market1501') in message
    assert 'never downloads' in message and '188.138.127.15' in message
    assert not osp.exists(osp.join(root, 'market1501'))
    # University1652 downloads with gdown without download_dataset
    with pytest.raises(TorchreidDatasetMissingError):
        build(root, 'train', name='university1652')
    assert os.listdir(root) == []
    # no data_root at all
    with pytest.raises(FileNotFoundError, match='does not exist'):
        build(str(tmp_path / 'nowhere'), 'train')


def test_incomplete_layout_and_unknown_name(reid_root):
    query = osp.join(reid_root, 'market1501', 'Market-1501-v15.09.15', 'query')
    for name in os.listdir(query):
        os.remove(osp.join(query, name))
    os.rmdir(query)
    with pytest.raises(RuntimeError, match='torchreid could not read'):
        build(reid_root, 'test')
    with pytest.raises(KeyError, match="unknown torchreid dataset 'marke'"):
        build(reid_root, 'train', name='marke')
    assert 'msmt17' in TorchreidImageDataset.available()


def test_the_standard_pipeline_packs_one_modality(reid_root):
    ds = build(
        reid_root,
        'test',
        pipeline=[
            dict(type='LoadMultiModalImages'),
            dict(
                type='BroadcastToModalities',
                transforms=[dict(type='Resize', scale=(32, 64))]),
            dict(type='PackReIDInputs'),
        ])
    packed = ds[0]
    assert packed['inputs'].shape == (1, 3, 64, 32)
    sample = packed['data_samples']
    assert sample.metainfo['pid'] == 10 and sample.metainfo['is_query']


REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DOC = osp.join(REPO, 'docs', 'torchreid.md')


def doc_config(first_line):
    """The python block of docs/torchreid.md that starts with
    ``first_line``."""
    with open(DOC, encoding='utf-8') as f:
        blocks = re.findall(r'```python\n(.*?)```', f.read(), re.S)
    found = [b for b in blocks if b.startswith(first_line)]
    assert len(found) == 1, f'{DOC}: no python block starts with ' \
        f'{first_line!r}'
    return found[0]


def shrink(text, replacements):
    """Apply exact-text replacements, each of which must match once."""
    for old, new in replacements:
        assert text.count(old) == 1, f'{DOC}: "{old}" changed; update here'
        text = text.replace(old, new)
    return text


def test_cross_dataset_config_trains_and_evaluates(reid_root, tmp_path):
    """docs/torchreid.md's complete config (Market-1501 -> DukeMTMC-reID,
    OSNet + the baseline head), shrunk to tiny sizes: it loads with its
    base, trains two steps and evaluates on the other dataset."""
    text = shrink(
        doc_config("_base_ = ['../_base_/default_runtime.py']"), [
            ("'../_base_/", f"'{REPO}/configs/_base_/"),
            ('img_size = (256, 128)', 'img_size = (64, 32)'),
            ("data_root = 'data/reid-data'", f"data_root = '{reid_root}'"),
            ("name='osnet_x1_0'", "name='osnet_x0_25'"),
            ("pretrained='data/pretrained/osnet_x1_0_imagenet.pth'",
             'pretrained=None'),
            ('num_classes=751', 'num_classes=3'),
            ('batch_size=64', 'batch_size=4'),
            ('num_instances=4', 'num_instances=2'),
            ('num_workers=4,\n    sampler=dict(type=\'Identity',
             'num_workers=0,\n    sampler=dict(type=\'Identity'),
            ("test_evaluator = dict(type='ReIDMetric', protocol='market')",
             "test_evaluator = dict(type='ReIDMetric', protocol='market', "
             'ranks=(1, ))'),
        ])
    path = tmp_path / 'cross.py'
    path.write_text(text)
    cfg = Config.fromfile(str(path))
    assert cfg.default_scope == 'mmreid_text'
    # what ReIDRunner fills in
    cfg.train_dataloader.sampler.batch_size = cfg.train_dataloader.batch_size
    cfg.test_dataloader.num_workers = 0
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        model = MODELS.build(cfg.model)
        optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
        train_loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
        for step, batch in enumerate(train_loader):
            losses = model.train_step(batch, optim)
            assert torch.isfinite(losses['loss']), losses
            if step == 1:
                break
        model.eval()
        evaluator = Evaluator(cfg.test_evaluator)
        test_loader = Runner.build_dataloader(cfg.test_dataloader, seed=0)
        for batch in test_loader:
            evaluator.process(model.test_step(batch), batch)
        metrics = evaluator.evaluate(len(test_loader.dataset))
    finally:
        torch.set_num_threads(threads)
    assert 0.0 <= metrics['reid/mAP'] <= 100.0, metrics


def test_doc_osnet_rgbnt201_override_builds():
    """docs/torchreid.md's triple-stream baseline on an OSNet trunk."""
    text = shrink(
        doc_config("_base_ = ['../baseline/clip_vitb16_rgbnt201.py']"), [
            ("'../baseline/", f"'{REPO}/configs/baseline/"),
            ("name='osnet_x1_0'", "name='osnet_x0_25'"),
            ("pretrained='data/pretrained/osnet_x1_0_imagenet.pth'",
             'pretrained=None'),
        ])
    cfg = Config.fromstring(text, '.py')
    assert cfg.model.backbone.type == 'TorchreidBackbone'
    assert 'arch' not in cfg.model.backbone  # _delete_ dropped CLIP's keys
    model = MODELS.build(cfg.model).eval()
    assert model.backbone.modalities == ('rgb', 'nir', 'tir')
    assert model.feature_check.checked
    with torch.no_grad():
        out = model(torch.randn(2, 3, 3, 64, 32), mode='tensor')
    assert out['retrieval'].shape == (2, 3 * 512)
    assert cfg.optim_wrapper.optimizer.lr == 3.5e-4
