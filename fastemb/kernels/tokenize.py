"""Whitespace tokenising and first-occurrence encoding of raw bytes, in Numba.

A Python loop over tens of millions of tokens costs more than training an epoch,
so the bytes of each block are split, hashed (FNV-1a) and looked up in an
open-addressing table here. A word is its exact byte string: the table keeps
each new word's bytes, so hash collisions never merge two words.
"""
from __future__ import annotations

import numpy as np

from .compiling import kernel

FNV_OFFSET = np.uint64(0xCBF29CE484222325)
FNV_PRIME = np.uint64(0x100000001B3)
EMPTY = -1


@kernel
def _is_space(b):
    # ASCII whitespace as word2vec and most tokenisers split on; NUL is a separator too,
    # so binary junk cannot glue a whole file into one token.
    return b == 32 or (9 <= b <= 13) or b == 0


@kernel
def encode_block(data, table, words, ids, limits):
    """Encode ``data`` (uint8) from position limits[0]; stop early if a buffer is nearly full.

    table  = (slot_word int32[S], slot_hash uint64[S])   S a power of two, EMPTY = free
    words  = (word_bytes uint8[B], word_start int64[W+1]) bytes of word w: word_bytes[word_start[w]:word_start[w+1]]
    ids    = (token_ids int32[T], line_ends int64[L])      outputs, filled from their counters
    limits = int64[position, n_words, n_tokens, n_line_ends, max_token_bytes, tokens_in_line, truncated,
                   max_line_tokens, cut_lines]
    Returns 0 when the block is done, 1 when a buffer must grow first (state saved in limits).
    A line end (token count so far) is recorded at each newline that closes a non-empty
    line; splitting long lines into sentences is left to the caller. With max_line_tokens > 0
    a line's later tokens are skipped unread (a classifier's example is its line's first tokens)
    and each line so cut is counted in cut_lines.
    """
    slot_word, slot_hash = table
    word_bytes, word_start = words
    token_ids, line_ends = ids
    mask = np.uint64(len(slot_word) - 1)
    i = limits[0]
    n_words, n_tokens, n_lines = limits[1], limits[2], limits[3]
    max_token_bytes = limits[4]
    line_tokens = limits[5]
    max_line_tokens = limits[7]
    n = len(data)
    while i < n:
        b = data[i]
        if _is_space(b):
            if b == 10 and line_tokens > 0:
                if n_lines >= len(line_ends):
                    break
                line_ends[n_lines] = n_tokens
                n_lines += 1
                line_tokens = 0
            i += 1
            continue
        if max_line_tokens > 0 and line_tokens >= max_line_tokens:
            if line_tokens == max_line_tokens:
                limits[8] += 1
                line_tokens += 1  # counted once; still > 0, so the newline ends the line
            while i < n and not _is_space(data[i]):
                i += 1
            continue
        if n_tokens >= len(token_ids) or 2 * (n_words + 1) > len(slot_word) or n_words + 2 > len(word_start):
            break
        start = i
        h = FNV_OFFSET
        while i < n and not _is_space(data[i]):
            h = (h ^ np.uint64(data[i])) * FNV_PRIME
            i += 1
        length = min(i - start, max_token_bytes)
        if word_start[n_words] + length > len(word_bytes):
            i = start
            break
        if length < i - start:  # over-long token: keep its first bytes, rehash them
            limits[6] += 1
            h = FNV_OFFSET
            for j in range(start, start + length):
                h = (h ^ np.uint64(data[j])) * FNV_PRIME
        slot = h & mask
        while True:
            w = slot_word[slot]
            if w == EMPTY:
                w = n_words
                slot_word[slot] = w
                slot_hash[slot] = h
                base = word_start[w]
                word_bytes[base:base + length] = data[start:start + length]
                word_start[w + 1] = base + length
                n_words += 1
                break
            if slot_hash[slot] == h and word_start[w + 1] - word_start[w] == length:
                base = word_start[w]
                same = True
                for j in range(length):
                    if word_bytes[base + j] != data[start + j]:
                        same = False
                        break
                if same:
                    break
            slot = (slot + np.uint64(1)) & mask
        token_ids[n_tokens] = w
        n_tokens += 1
        line_tokens += 1
    limits[0] = i
    limits[1], limits[2], limits[3], limits[5] = n_words, n_tokens, n_lines, line_tokens
    return 0 if i >= n else 1


@kernel
def rehash(slot_hash_old, slot_word_old, new_size, new_ids):
    """A table of ``new_size`` slots holding word new_ids[w] for every word w with new_ids[w] >= 0.

    Growing passes new_ids = arange(n_words); pruning rare words passes -1 for the dropped ones.
    Probing is encode_block's.
    """
    slot_word = np.full(new_size, EMPTY, dtype=np.int32)
    slot_hash = np.zeros(new_size, dtype=np.uint64)
    mask = np.uint64(new_size - 1)
    for s in range(len(slot_word_old)):
        w = slot_word_old[s]
        if w != EMPTY and new_ids[w] >= 0:
            slot = slot_hash_old[s] & mask
            while slot_word[slot] != EMPTY:
                slot = (slot + np.uint64(1)) & mask
            slot_word[slot] = new_ids[w]
            slot_hash[slot] = slot_hash_old[s]
    return slot_word, slot_hash
