"""Numba kernels that encode labelled lines: the end-of-line token, input rows (word hashes: hashing.py).

Word n-grams are hashed as fastText does (``Dictionary::addWordNgrams``): word
hashes are 32-bit FNV-1a over the word's bytes taken as *signed* chars, stored
as int32 and sign-extended to 64 bits, combined as ``h = h * 116049371 + hash[j]``
and taken ``% buckets``; unknown words still take part in n-grams.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from .compiling import kernel

NGRAM_MULTIPLIER = np.uint64(116049371)
NOT_A_WORD = -2         # token_word code of a label token (an unknown word is -1)

# How a line's words become input rows: n-grams up to word_ngrams words, bucket b is input row n_words + b.
NgramSettings = namedtuple("NgramSettings", "word_ngrams buckets n_words")


@kernel
def end_lines(tokens, line_offsets, end):
    """(tokens with the token ``end`` appended to every line, the new line offsets): fastText's </s>."""
    n_lines = len(line_offsets) - 1
    out = np.empty(len(tokens) + n_lines, dtype=np.int32)
    offsets = np.empty(n_lines + 1, dtype=np.int64)
    offsets[0] = 0
    o = 0
    for e in range(n_lines):
        for i in range(line_offsets[e], line_offsets[e + 1]):
            out[o] = tokens[i]
            o += 1
        out[o] = end
        o += 1
        offsets[e + 1] = o
    return out, offsets


@kernel
def count_types(tokens, n_types):
    """Occurrences of each token type (np.bincount, without its int64 copy of ``tokens``)."""
    counts = np.zeros(n_types, dtype=np.int64)
    for i in range(len(tokens)):
        counts[tokens[i]] += 1
    return counts


@kernel
def example_sizes(tokens, line_offsets, token_maps, ngrams):
    """Per line: where its input rows and labels go in ``encode_examples``' arrays, before they are allocated.

    Arguments as encode_examples; returns (row_offsets, label_offsets, word_counts, unknown_labels).
    A line with m word tokens (known or not) has sum_i min(N - 1, m - 1 - i) n-grams.
    """
    token_word, token_label, _, _, char_offsets = token_maps
    word_ngrams = ngrams.word_ngrams
    n_lines = len(line_offsets) - 1
    row_offsets = np.zeros(n_lines + 1, dtype=np.int64)
    label_offsets = np.zeros(n_lines + 1, dtype=np.int64)
    word_counts = np.zeros(n_lines, dtype=np.int32)
    unknown_labels = np.zeros(n_lines, dtype=np.int32)
    for e in range(n_lines):
        known = word_tokens = gold = unknown = chars = 0
        for i in range(line_offsets[e], line_offsets[e + 1]):
            t = tokens[i]
            if token_word[t] != NOT_A_WORD:
                word_tokens += 1
                chars += char_offsets[t + 1] - char_offsets[t]
                if token_word[t] >= 0:
                    known += 1
            elif token_label[t] >= 0:
                gold += 1
            else:
                unknown += 1
        n_grams = 0
        if word_ngrams > 1:
            for i in range(word_tokens):
                n_grams += min(word_ngrams - 1, word_tokens - 1 - i)
        row_offsets[e + 1] = row_offsets[e] + known + chars + n_grams
        label_offsets[e + 1] = label_offsets[e] + gold
        word_counts[e] = known
        unknown_labels[e] = unknown
    return row_offsets, label_offsets, word_counts, unknown_labels


@kernel
def encode_examples(tokens, line_offsets, token_maps, ngrams, sizes):
    """Per line: its input rows (each word's own row if known and its character n-gram rows, then the word
    n-gram buckets) and its known labels.

    tokens       int32 token-type id of every token, line after line
    line_offsets int64 line boundaries into ``tokens`` (len lines + 1)
    token_maps   = (token_word int32, token_label int32, token_hash uint64, char_rows int32, char_offsets int64)
                   per token type: word id, -1 unknown word, NOT_A_WORD for a label token; label id or -1;
                   the sign-extended FNV-1a hash; its character n-gram rows (subwords.token_ngram_rows)
    ngrams       = NgramSettings
    sizes        = example_sizes(tokens, line_offsets, token_maps, ngrams)
    Returns (rows, row_offsets, labels, label_offsets, word_counts, unknown_labels):
    word_counts = known word tokens per line, unknown_labels = label tokens not in the model.
    """
    token_word, token_label, token_hash, char_rows, char_offsets = token_maps
    word_ngrams, buckets, n_words = ngrams.word_ngrams, ngrams.buckets, ngrams.n_words
    row_offsets, label_offsets, word_counts, unknown_labels = sizes
    n_lines = len(line_offsets) - 1
    max_line = 0
    for e in range(n_lines):
        max_line = max(max_line, line_offsets[e + 1] - line_offsets[e])
    rows = np.empty(row_offsets[n_lines], dtype=np.int32)
    labels = np.empty(label_offsets[n_lines], dtype=np.int32)
    line_hashes = np.empty(max_line, dtype=np.uint64)
    bucket_count = np.uint64(max(buckets, 1))
    # Fill, in fastText's order (words as they come, then n-grams by start then length).
    for e in range(n_lines):
        r, j, m = row_offsets[e], label_offsets[e], 0
        for i in range(line_offsets[e], line_offsets[e + 1]):
            t = tokens[i]
            if token_word[t] != NOT_A_WORD:
                line_hashes[m] = token_hash[t]
                m += 1
                if token_word[t] >= 0:
                    rows[r] = token_word[t]
                    r += 1
                for c in range(char_offsets[t], char_offsets[t + 1]):
                    rows[r] = char_rows[c]
                    r += 1
            elif token_label[t] >= 0:
                labels[j] = token_label[t]
                j += 1
        if word_ngrams > 1:
            for i in range(m):
                h = line_hashes[i]
                for k in range(i + 1, min(m, i + word_ngrams)):
                    h = h * NGRAM_MULTIPLIER + line_hashes[k]
                    rows[r] = n_words + np.int64(h % bucket_count)
                    r += 1
    return rows, row_offsets, labels, label_offsets, word_counts, unknown_labels
