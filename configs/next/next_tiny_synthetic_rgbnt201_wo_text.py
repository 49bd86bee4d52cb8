# Copyright (c) mmreid_text contributors. All rights reserved.
# The tiny synthetic NEXT tested without text ("NEXT w/o Text", Table VIII):
# no caption is encoded at test and the test pipeline reads no caption file.
_base_ = ['./next_tiny_synthetic_rgbnt201.py']
model = dict(necks=[
    dict(_base_.model.necks[0], test_text=False),
    *_base_.model.necks[1:],
])
val_dataloader = dict(
    dataset=dict(pipeline=[
        t for t in _base_.test_pipeline if t['type'] != 'LoadCaptions'
    ]))
test_dataloader = val_dataloader
