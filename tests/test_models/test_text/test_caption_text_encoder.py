# Copyright (c) mmreid_text contributors. All rights reserved.
"""EEES caption features: the own modality's caption, clear errors for
missing captions, train only, and a trainable text encoder inside a tiny
ReIDModel (gradients and its own learning rate)."""
import pytest
import torch
from mmengine.optim import build_optim_wrapper

from mmreid_text.models import ReIDModel
from mmreid_text.models.losses import ImageTextContrastiveLoss
from mmreid_text.models.text import CaptionTextEncoder, TextEncoder
from mmreid_text.models.utils import (FeatureAccessRecorder, tiny_clip_arch,
                                      written_keys)
from mmreid_text.structures import ReIDDataSample
from mmreid_text.utils import register_all_modules

register_all_modules()
E = tiny_clip_arch()['embed_dim']
CAPTIONS = {
    'vis': 'A woman in a red coat and blue jeans.',
    'ir': 'A woman in a light coat and dark trousers.'
}


@pytest.fixture(scope='module')
def encoder():
    torch.manual_seed(0)
    return TextEncoder(arch=tiny_clip_arch(), frozen=True)


def _sample(modality, captions=CAPTIONS, pid=0, **extra):
    metainfo = dict(
        pid=pid,
        modality=modality,
        rel_img_path={modality: f'cam1/0001/{modality}.jpg'},
        **extra)
    if captions is not None:
        metainfo['captions'] = captions
    return ReIDDataSample(metainfo=metainfo)


def _neck(encoder, **kwargs):
    neck = CaptionTextEncoder(**kwargs)
    neck.set_text_encoder(encoder)
    return neck.train()


def test_reads_the_caption_of_the_sample_s_own_modality(encoder):
    neck = _neck(encoder, embed_dims=E)
    samples = [_sample('ir'), _sample('vis'), _sample('ir')]
    assert neck.sample_captions(samples) == [
        CAPTIONS['ir'], CAPTIONS['vis'], CAPTIONS['ir']
    ]
    out = neck(dict(proj_cls=torch.zeros(3, 1, E)), samples)
    text = out['caption_text']
    assert text.shape == (3, E)
    with torch.no_grad():
        expected = encoder.encode_text([CAPTIONS['ir'], CAPTIONS['vis']])
    # the trimmed context gives the full-context features (causal mask)
    torch.testing.assert_close(text[0], expected[0], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(text[1], expected[1], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(text[2], text[0])
    assert not torch.allclose(text[0], text[1])


def test_every_listed_modality_per_sample(encoder):
    neck = _neck(encoder, modalities=('vis', 'ir'))
    out = neck(dict(), [_sample(None), _sample(None)])
    assert out['caption_text'].shape == (2, 2, E)
    single = _neck(encoder)(dict(), [_sample('ir')])['caption_text']
    torch.testing.assert_close(
        out['caption_text'][1, 1], single[0], rtol=1e-5, atol=1e-5)


def test_missing_captions_fail_naming_the_image_and_the_fix(encoder):
    neck = _neck(encoder)
    with pytest.raises(KeyError) as error:
        neck(dict(), [_sample('vis'), _sample('ir', captions={'vis': 'x'})])
    message = str(error.value)
    assert 'cam1/0001/ir.jpg' in message and "'ir'" in message
    assert 'on_missing' in message and "['vis']" in message
    with pytest.raises(KeyError, match='add LoadCaptions'):
        neck(dict(), [_sample('vis', captions=None)])
    with pytest.raises(KeyError, match='modality'):
        neck(dict(), [_sample(None)])
    with pytest.raises(ValueError, match='data samples'):
        neck(dict(), None)
    with pytest.raises(ValueError, match='truncate=True'):
        neck(dict(), [_sample('vis', captions={'vis': 'person ' * 80})])
    assert _neck(
        encoder,
        truncate=True)(dict(),
                       [_sample('vis', captions={'vis': 'person ' * 80})
                        ])['caption_text'].shape == (1, E)
    with pytest.raises(ValueError, match='embed_dims'):
        _neck(encoder, embed_dims=E + 1)
    with pytest.raises(RuntimeError, match='text encoder'):
        CaptionTextEncoder().text_encoder


def test_train_only_unless_asked_and_declarations_equal_forward(encoder):
    neck = _neck(encoder)
    assert neck.reads == () and neck.writes == ()
    assert neck.train_writes == ('caption_text', )
    feats = FeatureAccessRecorder(proj_cls=torch.zeros(1, 1, E))
    out = neck(feats, [_sample('vis')])
    assert not feats.accessed
    assert written_keys(feats, out) == ('caption_text', )
    neck.eval()
    feats = dict(proj_cls=torch.zeros(1, 1, E))
    assert neck(feats, [_sample('vis')]) is feats
    at_test = _neck(encoder, encode_at_test=True).eval()
    assert at_test.writes == ('caption_text', ) and not at_test.train_writes
    assert 'caption_text' in at_test(dict(), [_sample('vis')])


def _tiny_model(frozen_text: bool) -> ReIDModel:
    torch.manual_seed(0)
    return ReIDModel(
        backbone=dict(
            type='CLIPVisionBackbone',
            arch=tiny_clip_arch('resnet'),
            img_size=(64, 32),
            modalities=('vis', 'ir')),
        text_encoder=dict(
            type='TextEncoder', arch=tiny_clip_arch(), frozen=frozen_text),
        necks=[
            dict(type='CaptionTextEncoder'),
            dict(type='CrossViewFusion', num_views=1, seed=0)
        ],
        head=dict(
            type='BNNeckHead',
            in_key='proj_cls',
            in_channels=E,
            num_classes=2,
            num_modalities=1),
        losses=dict(
            id=dict(type='CrossEntropyLoss', inputs=('logits', 'labels')),
            con_o=dict(
                type='ImageTextContrastiveLoss',
                weight=0.2,
                inputs=('proj_cls', 'caption_text', 'labels',
                        'sample_modalities')),
            con_m=dict(
                type='ImageTextContrastiveLoss',
                weight=0.2,
                inputs=('proj_cls_mv', 'caption_text_mv', 'labels',
                        'sample_modalities')),
            kd=dict(
                type='MultiViewDistillationLoss',
                weight=0.08,
                inputs=('proj_cls_mv', 'proj_cls', 'caption_text_mv',
                        'caption_text', 'sample_modalities')),
            cmsp=dict(
                type='CMSPLoss',
                weight=0.01,
                modalities=('vis', 'ir'),
                inputs=('proj_cls', 'caption_text', 'labels',
                        'sample_modalities'))))


def _batch():
    samples = [
        _sample(m, pid=p, captions={m: f'A person {p} seen in {m}.'})
        for p in (0, 1) for m in ('vis', 'vis', 'ir', 'ir')
    ]
    inputs = torch.rand(len(samples), 1, 3, 64, 32) * 255
    return inputs, samples


def test_text_encoder_is_trained_inside_the_model_at_its_own_lr():
    """TextEncoder(frozen=False): the caption losses reach its weights;
    optim_wrapper custom_keys give it EEES's 1e-6 next to 3e-4."""
    model = _tiny_model(frozen_text=False).train()
    inputs, samples = _batch()
    data = model.data_preprocessor(
        dict(inputs=inputs, data_samples=samples), True)
    losses = model(**data, mode='loss')
    assert set(losses) == {
        'loss_id', 'loss_con_o', 'loss_con_m', 'loss_kd', 'loss_cmsp'
    }
    sum(losses.values()).backward()
    text_grads = [
        p.grad for p in model.text_encoder.parameters() if p.requires_grad
    ]
    assert text_grads and all(g is not None for g in text_grads)
    assert model.text_encoder.encoder.token_embedding.weight.grad.abs().sum(
    ) > 0
    # the neck holds a reference, not a second copy of the encoder
    assert not any('necks' in n and 'encoder' in n
                   for n, _ in model.named_parameters())
    wrapper = build_optim_wrapper(
        model,
        dict(
            optimizer=dict(type='Adam', lr=3e-4),
            paramwise_cfg=dict(
                custom_keys={'text_encoder': dict(lr_mult=1e-6 / 3e-4)})))
    text_params = {id(p) for p in model.text_encoder.parameters()}
    lrs = {
        id(p): group['lr']
        for group in wrapper.optimizer.param_groups
        for p in group['params']
    }
    text_lrs = [lrs[i] for i in text_params]
    other_lrs = [lr for i, lr in lrs.items() if i not in text_params]
    assert text_lrs == pytest.approx([1e-6] * len(text_lrs))
    assert other_lrs == pytest.approx([3e-4] * len(other_lrs))
    # inference is visual only: no caption needed
    model.eval()
    with torch.no_grad():
        predicted = model(
            **model.data_preprocessor(
                dict(
                    inputs=inputs,
                    data_samples=[
                        _sample('vis', captions=None) for _ in samples
                    ]), False),
            mode='predict')
    assert predicted[0].pred_feature.shape == (E, )


def test_frozen_text_encoder_gets_no_gradient(encoder):
    """A frozen encoder passes the loss gradient to nothing on the text
    side (the image side still gets it)."""
    neck = _neck(encoder)
    text = neck(dict(), [_sample('vis'), _sample('ir')])['caption_text']
    image = torch.randn(2, E, requires_grad=True)
    ImageTextContrastiveLoss()(image, text, torch.tensor([0, 0]),
                               ('vis', 'ir')).backward()
    assert all(p.grad is None for p in encoder.parameters())
    assert not text.requires_grad and image.grad is not None
