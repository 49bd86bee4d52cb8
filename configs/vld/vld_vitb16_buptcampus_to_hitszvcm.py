# Copyright (c) mmreid_text contributors. All rights reserved.
# VLD Table VIII, BUPT -> VCM: test a model trained with
# vld_vitb16_buptcampus.py on HITSZ-VCM without fine-tuning, under the
# target's own test protocol (first frame per chunk, 'vcm' directions):
#   python tools/test.py configs/vld/vld_vitb16_buptcampus_to_hitszvcm.py \
#       work_dirs/vld_vitb16_buptcampus/iter_4800.pth
# Ranking uses cat(CLS, STA) only; the 1,074-identity classifier and the
# identity prompts are never used at test time.
_base_ = ['./vld_vitb16_buptcampus.py']
test_dataloader = dict(
    _delete_=True,
    batch_size=32,
    num_workers=4,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type='HITSZVCM',
        data_root='data/HITSZ-VCM',
        split='test',
        min_seq_len=12,
        pipeline=[
            dict(
                type='SampleFrames',
                num_frames=_base_.num_frames,
                mode='chunk_first'),
            dict(type='LoadMultiModalImages'),
            dict(
                type='BroadcastToModalities',
                transforms=[dict(type='Resize', scale=_base_.img_size[::-1])]),
            dict(type='PackReIDInputs', video=True),
        ]))
test_evaluator = dict(type='ReIDMetric', protocol='vcm', max_rank=20)
