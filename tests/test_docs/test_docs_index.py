# Copyright (c) mmreid_text contributors. All rights reserved.
"""docs/index.md and docs/faq.md cannot rot silently.

* every relative link of both pages resolves to an existing file or folder;
* every ``<!-- source: FILE :: TEXT -->`` marker of the FAQ names a file
  that still contains TEXT, and the example block right after the marker
  (the message as printed) contains TEXT too, so a message changed in the
  code fails here until the FAQ is updated.
"""
import os.path as osp
import re
from typing import List, Tuple

import mmengine
import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DOCS = osp.join(REPO, 'docs')
PAGES = ('index.md', 'faq.md')
#: ``[text](target)`` links, target without spaces; images included.
LINK = re.compile(r'\[[^\]]*\]\(([^)\s]+)\)')
MARKER = re.compile(r'^<!-- source: (.+?) :: (.+?) -->$', re.M)
FENCE = re.compile(r'^```[a-z]*\n(.*?)^```', re.S | re.M)
#: Folder that holds the installed ``mmengine`` package (for
#: ``mmengine/...`` sources: messages printed by mmengine itself).
SITE = osp.dirname(osp.dirname(osp.abspath(mmengine.__file__)))


def _read(path: str) -> str:
    with open(path, encoding='utf-8') as f:
        return f.read()


def _relative_links(page: str) -> List[str]:
    text = _read(osp.join(DOCS, page))
    links = []
    for target in LINK.findall(text):
        if re.match(r'^[a-z]+:', target) or target.startswith('#'):
            continue  # http(s):, mailto:, in-page anchors
        links.append(target.split('#')[0])
    return links


def _faq_quotes() -> List[Tuple[str, str, str]]:
    """``(source file, text, example block after the marker)`` each."""
    text = _read(osp.join(DOCS, 'faq.md'))
    quotes = []
    for match in MARKER.finditer(text):
        block = FENCE.search(text, match.end())
        assert block is not None, f'faq.md: no example block after {match[0]}'
        quotes.append((match[1].strip(), match[2], block[1]))
    return quotes


@pytest.mark.parametrize('page', PAGES)
def test_relative_links_resolve(page):
    """Catches: a link to a renamed or deleted page, config or script."""
    links = _relative_links(page)
    assert links, f'docs/{page} has no relative links'
    broken = [
        t for t in links if not osp.exists(osp.join(DOCS, t.rstrip('/')))
    ]
    assert not broken, (f'docs/{page} links to missing paths (relative to '
                        f'docs/): {broken}')


def test_index_covers_every_doc_page_and_analysis_tool():
    """Catches: a new docs page or analysis tool missing from the index."""
    links = {
        osp.normpath(osp.join(DOCS, t))
        for t in _relative_links('index.md')
    }
    expected = [
        osp.join(DOCS, name) for name in sorted(
            mmengine.list_dir_or_file(DOCS, list_dir=False, suffix='.md'))
        if name != 'index.md'
    ]
    for folder in ('tools/analysis_tools', 'tools/misc'):
        expected += [
            osp.join(REPO, folder, name) for name in sorted(
                mmengine.list_dir_or_file(
                    osp.join(REPO, folder), list_dir=False, suffix='.py'))
            if name != '__init__.py'
        ]
    missing = [osp.relpath(p, REPO) for p in expected if p not in links]
    assert not missing, f'docs/index.md does not link {missing}'


def test_faq_has_quotes():
    """Catches: the markers renamed so that nothing is checked any more."""
    assert len(_faq_quotes()) >= 15


@pytest.mark.parametrize('source,quote,block', _faq_quotes())
def test_faq_message_is_in_source_and_example(source, quote, block):
    """Catches: an error message changed in the code but not in the FAQ."""
    base = SITE if source.startswith('mmengine/') else REPO
    path = osp.join(base, source)
    assert osp.isfile(path), f'faq.md names a missing source file {source}'
    assert quote in _read(path), (
        f'faq.md quotes {quote!r} from {source}, which no longer contains '
        'it: update the message and its example in docs/faq.md')
    assert quote in block, (
        f'faq.md: the example after the marker for {quote!r} does not '
        'contain the quoted text')
