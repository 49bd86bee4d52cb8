# Copyright (c) mmreid_text contributors. All rights reserved.
"""The feature-source arguments shared by the picture tools."""
import argparse

import pytest

from mmreid_text.visualization import model_io


def _parse(argv, feats=True):
    parser = argparse.ArgumentParser()
    model_io.add_source_args(parser, feats=feats)
    args = parser.parse_args(argv)
    model_io.check_source_args(parser, args)
    return args


@pytest.mark.parametrize(
    'argv', [['c.py', 'k.pth'], ['--dump', 'd.npz'], ['--feats', 'f.npz']])
def test_exactly_one_source_is_accepted(argv):
    args = _parse(argv + ['--cfg-options', 'a=1'])
    assert args.cfg_options == ['a=1']


@pytest.mark.parametrize('argv',
                         [[], ['c.py'], ['c.py', 'k.pth', '--dump', 'd.npz'],
                          ['--dump', 'd.npz', '--feats', 'f.npz']])
def test_none_two_or_a_config_without_checkpoint_is_refused(argv, capsys):
    with pytest.raises(SystemExit):
        _parse(argv)
    assert ('give one of CONFIG CHECKPOINT, --dump FILE.npz or '
            '--feats FILE.npz') in capsys.readouterr().err


def test_without_feats():
    assert not hasattr(_parse(['--dump', 'd.npz'], feats=False), 'feats')
    with pytest.raises(SystemExit):
        _parse(['--feats', 'f.npz'], feats=False)  # unknown argument
    with pytest.raises(SystemExit):
        _parse(['c.py'], feats=False)
