# Copyright (c) mmreid_text contributors. All rights reserved.
import os
import os.path as osp
import re

from ..conftest import generate_tiny

NAME = re.compile(r'^v([1-8])_n([01])_s(\d{3})_(\d{4})\.jpg$')


def test_names_sessions_and_query_copies(tmp_path):
    result = generate_tiny('WMVEID863', tmp_path)
    dataset_dir = result['dataset_dir']
    for split in ('train', 'query', 'test'):
        for pid in os.listdir(osp.join(dataset_dir, split)):
            names = {
                sub:
                sorted(os.listdir(osp.join(dataset_dir, split, pid, sub)))
                for sub in ('vis', 'ni', 'th')
            }
            assert names['vis'] == names['ni'] == names['th']
            sessions = {}
            for name in names['vis']:
                cam, night, session, _ = NAME.match(name).groups()
                # one session = one camera, at night or not as a whole
                assert sessions.setdefault(session,
                                           (cam, night)) == (cam, night)
    for pid in os.listdir(osp.join(dataset_dir, 'query')):
        for name in os.listdir(osp.join(dataset_dir, 'query', pid, 'vis')):
            with open(osp.join(dataset_dir, 'query', pid, 'vis', name),
                      'rb') as f:
                query = f.read()
            with open(osp.join(dataset_dir, 'test', pid, 'vis', name),
                      'rb') as f:
                assert f.read() == query
    assert result['splits']['query']['ids'] == 3
