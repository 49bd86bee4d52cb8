# Copyright (c) mmreid_text contributors. All rights reserved.
"""check_feature_chain, declarations and the access recorder, on toy
components (no CLIP)."""
import pytest
import torch
from torch import nn

from mmreid_text.models.utils import (FeatureAccessRecorder, FeatureContract,
                                      FeatureContractError, FeatureKeys,
                                      check_feature_chain, get_feature_keys,
                                      is_declared, written_keys)


class ToyBackbone(FeatureContract, nn.Module):
    reads = ()

    @property
    def writes(self):
        return ('cls', 'tokens')

    def forward(self, x):
        return dict(cls=x, tokens=x)


class ToyNeck(FeatureContract, nn.Module):
    """Reads ``in_key`` (and ``mask_key`` when present), writes ``out_key``."""

    def __init__(self, in_key='cls', out_key='fused', mask_key=None):
        super().__init__()
        self.in_key = in_key
        self.out_key = out_key
        self.mask_key = mask_key

    @property
    def reads(self):
        return (self.in_key, )

    @property
    def optional_reads(self):
        return (self.mask_key, )

    @property
    def writes(self):
        return (self.out_key, )

    def forward(self, feats, data_samples=None):
        feats.get(self.mask_key)
        return dict(feats, **{self.out_key: feats[self.in_key] + 1})


class ToyHead(FeatureContract, nn.Module):

    def __init__(self, in_key='fused'):
        super().__init__()
        self.in_key = in_key

    @property
    def reads(self):
        return (self.in_key, )

    @property
    def writes(self):
        return ('retrieval', )

    @property
    def train_writes(self):
        return ('logits', )

    def forward(self, feats, data_samples=None):
        out = dict(feats, retrieval=feats[self.in_key])
        if self.training:
            out['logits'] = feats[self.in_key]
        return out


class PluginNeck(nn.Module):
    """Declares nothing (a plugin written before the contract)."""

    def forward(self, feats, data_samples=None):
        return dict(feats, anything=feats['cls'])


class NewForwardHead(ToyHead):
    """Overrides forward without restating the declaration."""

    def forward(self, feats, data_samples=None):
        return dict(feats, other=feats['cls'])


class RedeclaredHead(ToyHead):
    """Overrides forward and restates the declaration."""

    @property
    def writes(self):
        return ('other', )

    def forward(self, feats, data_samples=None):
        return dict(feats, other=feats[self.in_key])


class HelperSubclassHead(ToyHead):
    """Keeps the parent's forward: inherits its declaration."""

    def extra(self):
        return 1


def chain(*necks, head=None):
    comps = [('backbone', ToyBackbone())]
    comps += [(f'necks[{i}]', n) for i, n in enumerate(necks)]
    comps.append(('head', head if head is not None else ToyHead()))
    return comps


def test_valid_chain_reports_every_output_with_its_writer():
    report = check_feature_chain(
        chain(ToyNeck()), {'id': ('CrossEntropyLoss', ('logits', 'labels'))})
    assert report.checked and report.unknown_from is None
    assert report.available == {
        'cls': 'backbone ToyBackbone',
        'tokens': 'backbone ToyBackbone',
        'fused': 'necks[0] ToyNeck',
        'retrieval': 'head ToyHead',
        'logits': 'head ToyHead',
        'labels': 'ReIDModel',
    }


def test_neck_reading_unwritten_key_names_component_key_and_available():
    with pytest.raises(FeatureContractError) as info:
        check_feature_chain(chain(ToyNeck(), ToyNeck(in_key='txt')))
    msg = str(info.value)
    assert msg.startswith('necks[1] ToyNeck reads feats["txt"]')
    assert ('cls, tokens (backbone ToyBackbone); fused (necks[0] ToyNeck)'
            in msg)
    # the argument that configures the key is named in the fix
    assert 'model.necks[1].in_key (now "txt")' in msg
    assert 'Nothing in this model writes "txt"' in msg


def test_key_written_later_suggests_moving_the_writer():
    first = ToyNeck(in_key='fused', out_key='embedded')
    with pytest.raises(FeatureContractError) as info:
        check_feature_chain(chain(first, ToyNeck(), head=ToyHead('embedded')))
    msg = str(info.value)
    assert msg.startswith('necks[0] ToyNeck reads feats["fused"]')
    assert '"fused" is written by necks[1] ToyNeck, which runs later' in msg
    assert 'move it before necks[0] in model.necks' in msg


def test_reading_a_head_output_is_not_a_move_hint():
    with pytest.raises(FeatureContractError) as info:
        check_feature_chain(chain(ToyNeck(in_key='retrieval')))
    msg = str(info.value)
    assert 'written by head ToyHead, which runs after every neck' in msg
    assert 'move it' not in msg


def test_train_only_key_cannot_feed_a_later_component():
    # a head-like neck whose logits exist only in training
    class TrainOnlyNeck(ToyHead):
        writes = ()

    comps = [('backbone', ToyBackbone()),
             ('necks[0]', TrainOnlyNeck(in_key='cls')),
             ('head', ToyHead(in_key='logits'))]
    with pytest.raises(FeatureContractError, match='only in training mode'):
        check_feature_chain(comps)


class TrainReadNeck(ToyNeck):
    """Needs ``in_key`` in training only (as EEES's CrossViewFusion)."""

    @property
    def reads(self):
        return ()

    @property
    def train_reads(self):
        return (self.in_key, )


def test_train_reads_may_use_train_only_keys_but_not_unknown_ones():

    class TrainOnlyNeck(ToyHead):
        writes = ()

    writer = TrainOnlyNeck(in_key='cls')  # writes 'logits' in training
    report = check_feature_chain([('backbone', ToyBackbone()),
                                  ('necks[0]', writer),
                                  ('necks[1]', TrainReadNeck(in_key='logits')),
                                  ('head', ToyHead())])
    assert report.checked
    # a misspelt train-only read fails at build time like a plain read
    with pytest.raises(FeatureContractError) as info:
        check_feature_chain(chain(TrainReadNeck(in_key='clz')))
    msg = str(info.value)
    assert msg.startswith('necks[0] TrainReadNeck reads feats["clz"]')
    assert "Did you mean ['cls']" in msg or 'cls' in msg
    assert get_feature_keys(TrainReadNeck()).train_reads == ('cls', )


def test_optional_read_of_absent_key_does_not_fail():
    report = check_feature_chain(chain(ToyNeck(mask_key='text_mask')))
    assert report.checked


def test_loss_input_not_produced_fails_with_close_match():
    with pytest.raises(FeatureContractError) as info:
        check_feature_chain(
            chain(ToyNeck()), {'supcon': ('SupConLoss', ('fusd', 'labels'))})
    msg = str(info.value)
    assert msg.startswith('Loss "supcon" (SupConLoss) consumes "fusd"')
    assert "Did you mean ['fused']" in msg
    assert 'model.losses.supcon.inputs' in msg


def test_losses_see_chain_keys_train_outputs_and_labels():
    check_feature_chain(
        chain(ToyNeck()),
        {'a': ('L', ('cls', 'fused', 'logits', 'retrieval', 'labels'))})


def test_undeclared_component_stops_the_check():
    report = check_feature_chain(
        chain(ToyNeck(), PluginNeck(), ToyNeck(in_key='from_plugin')),
        {'x': ('L', ('whatever', ))})
    assert not report.checked
    assert report.unknown_from == 'necks[1] PluginNeck'
    # only what was known before the plugin
    assert set(report.available) == {'cls', 'tokens', 'fused'}


def test_reads_before_an_undeclared_component_are_still_checked():
    with pytest.raises(FeatureContractError, match='necks\\[0\\] ToyNeck'):
        check_feature_chain(chain(ToyNeck(in_key='nope'), PluginNeck()))


def test_subclass_with_new_forward_inherits_no_declaration():
    assert not is_declared(NewForwardHead())
    assert get_feature_keys(NewForwardHead()) is None
    assert is_declared(RedeclaredHead())
    assert get_feature_keys(RedeclaredHead()) == FeatureKeys(
        reads=('fused', ), writes=('other', ), train_writes=('logits', ))
    assert is_declared(HelperSubclassHead())
    assert not is_declared(PluginNeck())
    assert not is_declared(nn.Identity())


def test_declarations_follow_the_configured_keys():
    keys = get_feature_keys(ToyNeck('a', 'b', mask_key='m'))
    assert keys == FeatureKeys(
        reads=('a', ), optional_reads=('m', ), writes=('b', ))
    # an unset optional key (None) is dropped
    assert get_feature_keys(ToyNeck()).optional_reads == ()


def test_key_attrs_name_the_attributes_that_hold_the_keys():
    """The declarative form reads the configured keys from the named
    attributes at call time (a literal or stale copy would fail), skips
    unset optional keys and counts as a declaration."""

    class AttrNeck(FeatureContract, nn.Module):
        key_attrs = dict(
            reads=('query_key', 'context_key'),
            optional_reads=('mask_key', ),
            writes=('out_key', ),
            train_writes=('logits_key', ))

        def __init__(self, mask_key=None):
            super().__init__()
            self.query_key, self.context_key = 'q', 'ctx'
            self.out_key, self.mask_key = 'o', mask_key
            self.logits_key = 'lg'

        def forward(self, feats):
            return feats

    neck = AttrNeck()
    assert is_declared(neck)
    assert get_feature_keys(neck) == FeatureKeys(
        reads=('q', 'ctx'), writes=('o', ), train_writes=('lg', ))
    neck.out_key = 'renamed'
    assert get_feature_keys(neck).writes == ('renamed', )
    assert get_feature_keys(AttrNeck('m')).optional_reads == ('m', )


def test_key_attrs_without_writes_is_an_error():

    class NoWrites(FeatureContract, nn.Module):
        key_attrs = dict(reads=('in_key', ))
        in_key = 'cls'

        def forward(self, feats):
            return feats

    with pytest.raises(NotImplementedError, match='NoWrites.*"writes"'):
        get_feature_keys(NoWrites())


def test_mixin_without_reads_is_an_error_not_silence():

    class HalfDeclared(FeatureContract, nn.Module):
        writes = ('x', )

        def forward(self, feats):
            return feats

    with pytest.raises(NotImplementedError, match='HalfDeclared.*"reads"'):
        get_feature_keys(HalfDeclared())


def test_string_declaration_is_rejected():

    class StringWrites(FeatureContract, nn.Module):
        reads = ()
        writes = 'fused'

        def forward(self, feats):
            return feats

    with pytest.raises(TypeError, match='StringWrites.writes'):
        get_feature_keys(StringWrites())


def test_recorder_counts_lookups_not_copies_or_membership():
    rec = FeatureAccessRecorder(a=torch.zeros(1), b=1)
    assert 'a' in rec
    copied = dict(rec)
    copied.update(dict(rec, c=2))
    assert rec.accessed == set()
    rec['a']
    rec.get('missing')
    assert rec.accessed == {'a', 'missing'}


def test_written_keys_are_new_or_replaced_objects():
    x, y = torch.zeros(1), torch.ones(1)
    before = dict(a=x, b=y)
    after = dict(before, b=y.clone(), c=x)
    assert written_keys(before, after) == ('b', 'c')
    assert written_keys({}, before) == ('a', 'b')
