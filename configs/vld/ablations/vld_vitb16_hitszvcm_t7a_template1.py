# Copyright (c) mmreid_text contributors. All rights reserved.
# VLD Table VII: template "[X]1..[X]M person."
# (the main config uses template 4, "... observed in both day and night
# conditions.").
_base_ = ['../vld_vitb16_hitszvcm.py']
model = dict(necks=[
    dict(_base_.model.necks[0], template='{tokens} person.'),
    *_base_.model.necks[1:],
])
