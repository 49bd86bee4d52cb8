# Copyright (c) mmreid_text contributors. All rights reserved.
# NEXT Table VIII "NEXT (w/o Text)": the model trained with text, tested
# without it: no caption is encoded at test (TMSE routes on gamma = alpha),
# so the test pipeline reads no caption file. Test a NEXT checkpoint with
#   python tools/test.py \
#       configs/next/ablations/next_vitb16_rgbnt201_t8_wo_text.py CKPT
_base_ = ['../next_vitb16_rgbnt201.py']
model = dict(necks=[
    dict(_base_.model.necks[0], test_text=False),
    *_base_.model.necks[1:],
])
val_dataloader = dict(
    dataset=dict(pipeline=[
        t for t in _base_.test_pipeline if t['type'] != 'LoadCaptions'
    ]))
test_dataloader = val_dataloader
