# Copyright (c) mmreid_text contributors. All rights reserved.
# NEXT Table IV (b): the baseline + MGFA, which "fuses the modality-specific
# features as a unified expert": one expert of all 3 x N patch tokens, the
# modality class tokens as the query. No text.
_base_ = ['../next_vitb16_msvr310.py']
model = dict(
    text_encoder=None,
    necks=[
        dict(
            _base_.model.necks[3],
            expert_keys=(),
            modality_token_keys=('proj_tokens', )),
    ])
# No text: the pipelines drop LoadCaptions (no caption file is read).
train_dataloader = dict(
    dataset=dict(pipeline=[
        t for t in _base_.train_pipeline if t['type'] != 'LoadCaptions'
    ]))
val_dataloader = dict(
    dataset=dict(pipeline=[
        t for t in _base_.test_pipeline if t['type'] != 'LoadCaptions'
    ]))
test_dataloader = val_dataloader
