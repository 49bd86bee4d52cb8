# Copyright (c) mmreid_text contributors. All rights reserved.
# VLD Table VIII, VCM -> BUPT: test a model trained with
# vld_vitb16_hitszvcm.py on BUPTCampus without fine-tuning, under the
# target's own test protocol (uniform frame sampling, 'bupt' directions):
#   python tools/test.py configs/vld/vld_vitb16_hitszvcm_to_buptcampus.py \
#       work_dirs/vld_vitb16_hitszvcm/iter_4800.pth
# Ranking uses cat(CLS, STA) only; the 500-identity classifier and the
# identity prompts are never used at test time.
_base_ = ['./vld_vitb16_hitszvcm.py']
test_dataloader = dict(
    _delete_=True,
    batch_size=32,
    num_workers=4,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type='BUPTCampus',
        data_root='data/BUPTCampus',
        split='test',
        pipeline=[
            dict(
                type='SampleFrames',
                num_frames=_base_.num_frames,
                mode='uniform'),
            dict(type='LoadMultiModalImages'),
            dict(
                type='BroadcastToModalities',
                transforms=[dict(type='Resize', scale=_base_.img_size[::-1])]),
            dict(type='PackReIDInputs', video=True),
        ]))
test_evaluator = dict(type='ReIDMetric', protocol='bupt', max_rank=20)
