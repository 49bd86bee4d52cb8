# Copyright (c) mmreid_text contributors. All rights reserved.
# Table 3 "ISE" (implicit semantics embedding): learnable identity prompts
# "A photo of a [X]1..[X]4 person." (CSDN's template) through the frozen
# CLIP text encoder as an identity classifier of proj_cls (VLD's IMLP +
# v2t loss, end-to-end, instead of CSDN's separate prompt-learning stages;
# weight 0.2 = lambda_2, the slot ESE takes in the full model). See
# configs/eees/README.md.
_base_ = ['../eees_rn50_sysu.py']
model = dict(
    text_encoder=dict(frozen=True),
    necks=[
        _base_.model.necks[0],  # GeMPooling
        dict(
            type='IdentityPrompt',
            num_ids=395,
            num_tokens=4,
            template='A photo of a {tokens} person.',
            token_dims=512,
            embed_dims=1024,
            init_std=0.02,
            out_key='id_text'),
    ],
    losses=dict(
        _delete_=True,
        id=_base_.model.losses.id,
        wrt=_base_.model.losses.wrt,
        v2t=dict(
            type='VisualToTextLoss',
            similarity='dot',
            logit_scale=1.0,
            weight=0.2,
            inputs=('proj_cls', 'id_text', 'labels'))))
# no text is read: the pipeline loads no captions (no caption file needed)
train_dataloader = dict(
    dataset=dict(pipeline=[
        t for t in _base_.train_dataloader.dataset.pipeline
        if t['type'] != 'LoadCaptions'
    ]))
