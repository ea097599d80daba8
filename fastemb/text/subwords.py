"""fastText's character n-grams ("subwords"): the input rows whose mean is a word's vector.

As fastText's ``Dictionary::computeSubwords``: the word is wrapped as ``<word>``
and every run of ``n`` UTF-8 characters, ``minn <= n <= maxn``, is an n-gram,
except the lone ``<`` and ``>``; ``<word>`` itself is one when it is short
enough. A character is a byte that is not a continuation byte (``b & 0xC0 ==
0x80``) with the continuation bytes after it, so invalid UTF-8 is cut the way
fastText cuts it. An n-gram's row is ``n_words + fnv1a(bytes) % buckets``, with
fastText's FNV-1a over *signed* bytes (kernels/hashing.py).

A vocabulary word's rows are its own id, then its n-gram rows in fastText's order
(by start, then length); a word outside the vocabulary has only its n-gram rows.
The end-of-line token ``</s>`` has no n-grams. ``maxn == 0`` means no n-grams.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..base.config import SubwordSettings
from ..kernels.subwords import ngram_rows_kernel, ngram_table, subword_offsets, subword_rows_kernel
from .vocab import EOS


def encode_words(words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Words as one UTF-8 byte array and start offsets (as corpus.WordTable keeps them)."""
    encoded = [w.encode("utf-8", "surrogateescape") for w in words]
    starts = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=starts[1:])
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), starts


def _word_bytes(words) -> tuple[np.ndarray, np.ndarray]:
    """``words`` (a list of str, or anything with ``blob`` and ``starts``: a corpus.WordTable) as encode_words."""
    if hasattr(words, "blob"):
        return np.frombuffer(words.blob, dtype=np.uint8), np.asarray(words.starts, dtype=np.int64)
    return encode_words(words)


def vocabulary_subword_rows(words, settings: SubwordSettings) -> tuple[np.ndarray, np.ndarray]:
    """(rows int32, offsets int64): every vocabulary word's input rows, its own id first.

    ``words``: a list of str, or anything with ``blob`` (bytes) and ``starts`` (a corpus.WordTable).
    What training feeds the kernels, and what fastText's ``getSubwords`` gives for a word of the vocabulary.
    """
    settings.validate()
    data, starts = _word_bytes(words)
    return subword_rows_kernel(data, starts, settings.minn, settings.maxn, max(settings.buckets, 1),
                               _end_token_id(data, starts))


def token_ngram_rows(tokens: Sequence[str], settings: SubwordSettings, n_words: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows int32, offsets int64): the character n-gram rows of each token (none for ``</s>``, none at all
    without n-grams): what a classifier with subwords adds after each word of a line, known or not."""
    if not settings.enabled:
        return np.zeros(0, np.int32), np.zeros(len(tokens) + 1, np.int64)
    data, starts = encode_words(tokens)
    return ngram_table(data, starts, settings.minn, settings.maxn, settings.buckets, n_words,
                       _end_token_id(data, starts))


def vocabulary_subword_count(words, settings: SubwordSettings) -> int:
    """How many int32 rows ``vocabulary_subword_rows`` allocates: the memory check counts them first."""
    settings.validate()
    data, starts = _word_bytes(words)
    return int(subword_offsets(data, starts, settings.minn, settings.maxn, _end_token_id(data, starts))[-1])


def _end_token_id(data: np.ndarray, starts: np.ndarray) -> int:
    eos = np.frombuffer(EOS.encode(), dtype=np.uint8)
    lengths = np.diff(starts)
    for w in np.flatnonzero(lengths == len(eos)):
        if np.array_equal(data[starts[w]:starts[w + 1]], eos):
            return int(w)
    return -1


def ngram_strings(word: str, settings: SubwordSettings) -> list[bytes]:
    """The character n-grams of ``word`` as UTF-8 bytes, in the order of its rows (``word_subword_rows``)."""
    if word == EOS or not settings.enabled:
        return []
    wrapped = b"<" + word.encode("utf-8", "surrogateescape") + b">"
    starts = [i for i, b in enumerate(wrapped) if b & 0xC0 != 0x80] + [len(wrapped)]
    found = []
    for c in range(len(starts) - 1):
        for n in range(max(settings.minn, 1), min(settings.maxn, len(starts) - 1 - c) + 1):
            end = starts[c + n]
            if not (n == 1 and (c == 0 or end == len(wrapped))):
                found.append(wrapped[starts[c]:end])
    return found


def word_subword_rows(word: str, settings: SubwordSettings, n_words: int, word_id: int = -1) -> np.ndarray:
    """fastText's ``getSubwords(word)``: [word_id] (if >= 0) followed by the word's n-gram rows;
    no n-grams for ``</s>``. For a word outside the vocabulary (word_id -1) only the n-gram rows."""
    if word == EOS or not settings.enabled:
        ngrams = np.zeros(0, dtype=np.int32)
    else:
        data = np.frombuffer(word.encode("utf-8", "surrogateescape"), dtype=np.uint8)
        ngrams = ngram_rows_kernel(data, settings.minn, settings.maxn, settings.buckets, n_words)
    if word_id < 0:
        return ngrams
    return np.concatenate((np.array([word_id], dtype=np.int32), ngrams))
