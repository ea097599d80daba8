"""Numba kernels of fastText's character n-grams ("subwords"); text/subwords.py says what they compute.

A word is wrapped as ``<word>``; every run of ``n`` UTF-8 characters, ``minn <= n <= maxn``, but the lone
``<`` and ``>``, is an n-gram whose row is ``n_words + fnv1a(bytes) % buckets``.
"""
import numpy as np

from .compiling import kernel
from .hashing import FNV_OFFSET, fnv1a_step

_BOW, _EOW = 60, 62  # b"<", b">"


@kernel
def _wrapped_byte(data, begin, end, p):
    """Byte p of ``<word>`` where word = data[begin:end], without building it."""
    if p == 0:
        return np.uint8(_BOW)
    if p == end - begin + 1:
        return np.uint8(_EOW)
    return data[begin + p - 1]


@kernel
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


@kernel
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
        h = FNV_OFFSET
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


@kernel
def subword_offsets(data, starts, minn, maxn, skip):
    """int64 offsets of every word's rows in ``subword_rows_kernel``'s rows: their size, before allocating."""
    n = len(starts) - 1
    offsets = np.empty(n + 1, dtype=np.int64)
    offsets[0] = 0
    for w in range(n):
        k = 1
        if maxn > 0 and w != skip:
            k += _n_ngrams(data, starts[w], starts[w + 1], minn, maxn)
        offsets[w + 1] = offsets[w] + k
    return offsets


@kernel
def subword_rows_kernel(data, starts, minn, maxn, buckets, skip):
    """Rows of every word data[starts[w]:starts[w + 1]]: (rows int32, offsets int64).

    Word w's rows are rows[offsets[w]:offsets[w + 1]]: w itself, then its n-gram rows
    (n_words + bucket). Word ``skip`` (the end token, or -1) gets no n-grams.
    """
    n = len(starts) - 1
    offsets = subword_offsets(data, starts, minn, maxn, skip)
    rows = np.empty(offsets[n], dtype=np.int32)
    for w in range(n):
        o = offsets[w]
        rows[o] = w
        o += 1
        if maxn > 0 and w != skip:
            o = _fill_ngrams(data, starts[w], starts[w + 1], minn, maxn, buckets, n, rows, o)
    return rows, offsets


@kernel
def ngram_table(data, starts, minn, maxn, buckets, first_row, skip):
    """The n-gram rows alone (first_row + bucket) of every word data[starts[w]:starts[w + 1]]: (rows int32,
    offsets int64); word ``skip`` (the end token, or -1) has none."""
    n = len(starts) - 1
    offsets = np.zeros(n + 1, dtype=np.int64)
    for w in range(n):
        k = 0
        if maxn > 0 and w != skip:
            k = _n_ngrams(data, starts[w], starts[w + 1], minn, maxn)
        offsets[w + 1] = offsets[w] + k
    rows = np.empty(offsets[n], dtype=np.int32)
    for w in range(n):
        if maxn > 0 and w != skip:
            _fill_ngrams(data, starts[w], starts[w + 1], minn, maxn, buckets, first_row, rows, offsets[w])
    return rows, offsets


@kernel
def ngram_rows_kernel(data, minn, maxn, buckets, n_words):
    """The n-gram rows (n_words + bucket) of the one word ``data``."""
    rows = np.empty(_n_ngrams(data, 0, len(data), minn, maxn) if maxn > 0 else 0, dtype=np.int32)
    if maxn > 0:
        _fill_ngrams(data, 0, len(data), minn, maxn, buckets, n_words, rows, 0)
    return rows


@kernel(fastmath=True)
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
