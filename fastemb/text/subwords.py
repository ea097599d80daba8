"""fastText's character n-grams ("subwords"): the input rows whose mean is a word's vector.

As fastText's ``Dictionary::computeSubwords``: the word is wrapped as ``<word>``
and every run of ``n`` UTF-8 characters, ``minn <= n <= maxn``, is an n-gram,
except the lone ``<`` and ``>``; ``<word>`` itself is one when it is short
enough. A character is a byte that is not a continuation byte (``b & 0xC0 ==
0x80``) with the continuation bytes after it, so invalid UTF-8 is cut the way
fastText cuts it. An n-gram's row is ``n_words + fnv1a(bytes) % buckets``, with
fastText's FNV-1a over *signed* bytes (labelled_kernel.fnv1a_hashes).

A vocabulary word's rows are its own id, then its n-gram rows in fastText's order
(by start, then length); a word outside the vocabulary has only its n-gram rows.
The end-of-line token ``</s>`` has no n-grams. ``maxn == 0`` means no n-grams.
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np
from numba import njit

from ..base.errors import FastembError

EOS = "</s>"
_BOW, _EOW = 60, 62  # b"<", b">"
_FNV_OFFSET = np.uint64(2166136261)
_FNV_PRIME = np.uint64(16777619)
_MASK32 = np.uint64(0xFFFFFFFF)


class SubwordSettings(NamedTuple):
    """Character n-gram lengths (minn..maxn) and the number of hash buckets (fastText's -minn -maxn -bucket)."""

    minn: int = 3
    maxn: int = 6
    buckets: int = 2_000_000

    @property
    def enabled(self) -> bool:
        return self.maxn > 0

    def validate(self) -> None:
        if self.minn < 0 or self.maxn < 0:
            raise FastembError(f"--minn and --maxn must be >= 0, got {self.minn} and {self.maxn}")
        if self.maxn > 0 and self.minn > self.maxn:
            raise FastembError(f"--minn ({self.minn}) must not exceed --maxn ({self.maxn})")
        if self.maxn > 0 and self.buckets <= 0:
            raise FastembError(f"--buckets must be a positive integer with --maxn > 0, got {self.buckets}")


@njit(cache=True, nogil=True)
def fnv1a_step(h, byte):
    """One byte of fastText's FNV-1a (a uint64 holding 32 bits): the byte is xored as a *signed* char."""
    b = np.uint64(byte)
    if b >= 128:
        b |= np.uint64(0xFFFFFF00)
    return ((h ^ b) * _FNV_PRIME) & _MASK32


@njit(cache=True, nogil=True)
def fnv1a(data, begin, end):
    """fastText's ``Dictionary::hash`` of data[begin:end]."""
    h = _FNV_OFFSET
    for i in range(begin, end):
        h = fnv1a_step(h, data[i])
    return h


@njit(cache=True, nogil=True)
def _wrapped_byte(data, begin, end, p):
    """Byte p of ``<word>`` where word = data[begin:end], without building it."""
    if p == 0:
        return np.uint8(_BOW)
    if p == end - begin + 1:
        return np.uint8(_EOW)
    return data[begin + p - 1]


@njit(cache=True, nogil=True)
def _n_ngrams(data, begin, end, minn, maxn):
    """How many n-grams ``_fill_ngrams`` writes for data[begin:end]."""
    chars = 2  # < and >
    for i in range(begin, end):
        if (data[i] & 0xC0) != 0x80:
            chars += 1
    lowest = max(minn, 1)
    total = 0
    for start in range(chars):
        total += max(0, min(maxn, chars - start) - lowest + 1)
    if lowest == 1 and maxn >= 1:
        total -= 2  # the lone < and >
    return total


@njit(cache=True, nogil=True)
def _fill_ngrams(data, begin, end, minn, maxn, buckets, first_row, out, o):
    """Write the n-gram rows of data[begin:end] to out[o:]; returns the next free position.

    FNV-1a is computed byte by byte, so one pass from each start character hashes
    every n-gram that starts there.
    """
    size = end - begin + 2
    bucket_count = np.uint64(buckets)
    for i in range(size):
        if (_wrapped_byte(data, begin, end, i) & 0xC0) == 0x80:
            continue
        h = _FNV_OFFSET
        j = i
        n = 1
        while j < size and n <= maxn:
            while True:  # one character: its first byte and its continuation bytes
                h = fnv1a_step(h, _wrapped_byte(data, begin, end, j))
                j += 1
                if j >= size or (_wrapped_byte(data, begin, end, j) & 0xC0) != 0x80:
                    break
            if n >= minn and not (n == 1 and (i == 0 or j == size)):
                out[o] = first_row + np.int64(h % bucket_count)
                o += 1
            n += 1
    return o


@njit(cache=True, nogil=True)
def subword_rows_kernel(data, starts, minn, maxn, buckets, skip):
    """Rows of every word data[starts[w]:starts[w + 1]]: (rows int32, offsets int64).

    Word w's rows are rows[offsets[w]:offsets[w + 1]]: w itself, then its n-gram rows
    (n_words + bucket). Word ``skip`` (the end token, or -1) gets no n-grams.
    """
    n = len(starts) - 1
    offsets = np.empty(n + 1, dtype=np.int64)
    offsets[0] = 0
    for w in range(n):
        k = 1
        if maxn > 0 and w != skip:
            k += _n_ngrams(data, starts[w], starts[w + 1], minn, maxn)
        offsets[w + 1] = offsets[w] + k
    rows = np.empty(offsets[n], dtype=np.int32)
    for w in range(n):
        o = offsets[w]
        rows[o] = w
        o += 1
        if maxn > 0 and w != skip:
            o = _fill_ngrams(data, starts[w], starts[w + 1], minn, maxn, buckets, n, rows, o)
    return rows, offsets


@njit(cache=True, nogil=True)
def ngram_rows_kernel(data, minn, maxn, buckets, n_words):
    """The n-gram rows (n_words + bucket) of the one word ``data``."""
    rows = np.empty(_n_ngrams(data, 0, len(data), minn, maxn) if maxn > 0 else 0, dtype=np.int32)
    if maxn > 0:
        _fill_ngrams(data, 0, len(data), minn, maxn, buckets, n_words, rows, 0)
    return rows


@njit(cache=True, nogil=True, fastmath=True)
def mean_rows(matrix, rows, offsets, out):
    """out[w] = the mean of matrix[rows[offsets[w]:offsets[w + 1]]] (zeros for no rows): fastText's
    getWordVector for every word at once."""
    dim = matrix.shape[1]
    for w in range(len(offsets) - 1):
        for d in range(dim):
            out[w, d] = 0.0
        first, last = offsets[w], offsets[w + 1]
        for i in range(first, last):
            r = rows[i]
            for d in range(dim):
                out[w, d] += matrix[r, d]
        if last > first:
            scale = np.float32(1.0 / (last - first))
            for d in range(dim):
                out[w, d] *= scale
    return out


def encode_words(words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Words as one UTF-8 byte array and start offsets (as corpus.WordTable keeps them)."""
    encoded = [w.encode("utf-8", "surrogateescape") for w in words]
    starts = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=starts[1:])
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), starts


def vocabulary_subword_rows(words, settings: SubwordSettings) -> tuple[np.ndarray, np.ndarray]:
    """(rows int32, offsets int64): every vocabulary word's input rows, its own id first.

    ``words``: a list of str, or anything with ``blob`` (bytes) and ``starts`` (a corpus.WordTable).
    What training feeds the kernels, and what fastText's ``getSubwords`` gives for a word of the vocabulary.
    """
    settings.validate()
    if hasattr(words, "blob"):
        data, starts = np.frombuffer(words.blob, dtype=np.uint8), np.asarray(words.starts, dtype=np.int64)
    else:
        data, starts = encode_words(words)
    return subword_rows_kernel(data, starts, settings.minn, settings.maxn, max(settings.buckets, 1),
                               _end_token_id(data, starts))


def _end_token_id(data: np.ndarray, starts: np.ndarray) -> int:
    eos = np.frombuffer(EOS.encode(), dtype=np.uint8)
    lengths = np.diff(starts)
    for w in np.flatnonzero(lengths == len(eos)):
        if np.array_equal(data[starts[w]:starts[w + 1]], eos):
            return int(w)
    return -1


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
