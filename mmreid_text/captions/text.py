# Copyright (c) mmreid_text contributors. All rights reserved.
"""Caption text utilities: sentences, CLIP token counts, the 77-token rule.

The context rule (``fit_to_context``), applied to captions longer than the
text encoder's context (77 tokens for CLIP, counting the start and end
tokens):

1. ``'sentences'`` (default): split the caption into sentences (a sentence
   ends at ``.``, ``!`` or ``?`` followed by white space) and keep whole
   sentences, in their original order, from the first one on, while the
   kept text still fits; the first sentence that does not fit and all
   later ones are dropped. If even the first sentence is too long, it is
   cut at the last word boundary that fits.
2. ``'truncate'``: cut the whole caption at the last word boundary that
   fits (sentence boundaries are ignored).
3. ``'error'``: raise ``CaptionTooLongError``.
4. ``'none'``: return the caption unchanged (the text encoder's tokenizer
   then truncates at the token level).

Token counts use open_clip's bundled BPE tokenizer (no download).
"""
import functools
import re
from typing import Callable, List, Optional

CLIP_CONTEXT_LENGTH = 77
OVERFLOW_RULES = ('sentences', 'truncate', 'error', 'none')

# Words counted by NEXT Fig. 2 as signs of an unreliable caption.
UNKNOWN_WORDS = ('none', 'unknown', 'unclear')
UNKNOWN_WORD_PATTERN = re.compile(r'\b(?:none|unknown|unclear)\b',
                                  re.IGNORECASE)
_SENTENCE_END = re.compile(r'(?<=[.!?])\s+')
_WORD = re.compile(r"[A-Za-z0-9]+(?:['-][A-Za-z0-9]+)*")


class CaptionTooLongError(ValueError):
    """A caption does not fit the text context and the rule is 'error'."""


def split_sentences(text: str) -> List[str]:
    """Split a caption into sentences (see the module doc for the rule)."""
    text = ' '.join(text.split())
    if not text:
        return []
    return [s for s in _SENTENCE_END.split(text) if s]


def count_words(text: str) -> int:
    """Number of words (alphanumeric runs, inner ``'``/``-`` allowed)."""
    return len(_WORD.findall(text))


def has_unknown_words(text: str) -> bool:
    """Whether the caption contains 'none', 'unknown' or 'unclear'."""
    return UNKNOWN_WORD_PATTERN.search(text) is not None


@functools.lru_cache(maxsize=4)
def _open_clip_tokenizer(model_name: str):
    import open_clip
    tokenizer = open_clip.get_tokenizer(model_name)
    if not hasattr(tokenizer, 'encode'):
        raise ValueError(
            f'open_clip tokenizer of {model_name!r} is '
            f'{type(tokenizer).__name__}, which has no BPE encode(); use a '
            "CLIP model name whose tokenizer is SimpleTokenizer, e.g. "
            "'ViT-B-16'.")
    return tokenizer


def clip_token_counter(model_name: str = 'ViT-B-16') -> Callable[[str], int]:
    """Function giving the number of CLIP tokens of a text, including the
    start and end tokens (so a text fits the context iff the count is at
    most 77). The tokenizer is loaded once per process."""
    tokenizer = _open_clip_tokenizer(model_name)

    def count(text: str) -> int:
        return len(tokenizer.encode(text)) + 2

    return count


def truncate_words(text: str, count_tokens: Callable[[str], int],
                   context_length: int) -> str:
    """Longest word prefix of ``text`` whose token count fits."""
    words = text.split()
    if count_tokens(text) <= context_length:
        return text
    low, high = 0, len(words)  # words[:low] fits, words[:high] does not
    while high - low > 1:
        mid = (low + high) // 2
        if count_tokens(' '.join(words[:mid])) <= context_length:
            low = mid
        else:
            high = mid
    # A single word longer than the context keeps its first word anyway;
    # the tokenizer will cut it at the token level.
    return ' '.join(words[:max(low, 1)])


def fit_to_context(text: str,
                   count_tokens: Callable[[str], int],
                   context_length: int = CLIP_CONTEXT_LENGTH,
                   rule: str = 'sentences',
                   where: Optional[str] = None) -> str:
    """Apply the documented context rule to one caption.

    Args:
        text: The caption.
        count_tokens: Token counter including start/end tokens.
        context_length: Context size of the text encoder (77 for CLIP).
        rule: One of ``OVERFLOW_RULES``.
        where: Description of the caption for error messages.
    """
    if rule not in OVERFLOW_RULES:
        raise ValueError(f'Unknown overflow rule {rule!r}; choose one of '
                         f'{OVERFLOW_RULES}.')
    if rule == 'none' or count_tokens(text) <= context_length:
        return text
    if rule == 'error':
        raise CaptionTooLongError(
            f'Caption {where or text[:40]!r} has {count_tokens(text)} '
            f'tokens, more than the context of {context_length}. Shorten '
            "it, or set overflow='sentences' or 'truncate' in LoadCaptions.")
    if rule == 'truncate':
        return truncate_words(text, count_tokens, context_length)
    sentences = split_sentences(text)
    kept: List[str] = []
    for sentence in sentences:
        candidate = ' '.join(kept + [sentence])
        if count_tokens(candidate) > context_length:
            break
        kept.append(sentence)
    if not kept:
        return truncate_words(sentences[0], count_tokens, context_length)
    return ' '.join(kept)
