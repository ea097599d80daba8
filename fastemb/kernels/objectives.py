"""The objectives: each turns one unit of data into input rows and targets and calls ``update.update``.

    sentence    skip-gram: each context row of a centre word's reduced window predicts the centre
                (``batched``: the window's context rows at once against one set of targets, HogBatch;
                else one context row at a time, as word2vec and gensim);
                CBOW: the mean (or sum) of a centre word's context rows predicts the centre
    supervised  a labelled line: the mean of its word and n-gram rows predicts one of its labels
                (ova: all of them)

Each returns (rng, loss, scored, words): the loss summed over its updates, the number of
(hidden row, output row) pairs (words) or examples (lines) it scored, and the words it
counts for the learning-rate schedule. ``s`` is the kernel's Settings, ``rows_in`` and
``rows_out`` the thread's hot-row maps (see losses.row_of).
"""
from __future__ import annotations

import numpy as np

from .rows import inline, jit
from .losses import ONE_VS_ALL, choose_targets, row_of
from .sampling import below, next_random
from .update import SEPARATE, update

SKIPGRAM, CBOW, SUPERVISED = 0, 1, 2  # Settings.objective


@inline
def subsample(tokens, start, end, keep_threshold, rng, sentence):
    """sentence[:n] = the tokens[start:end] that survive word2vec's subsampling of frequent words."""
    n = 0
    for i in range(start, end):
        rng, bits = next_random(rng)
        if bits < keep_threshold[tokens[i]]:
            sentence[n] = tokens[i]
            n += 1
    return n, rng


@inline
def window_rows(sentence, n, i, window, rng, rows_in, in_ids):
    """in_ids[:count] = the input rows of the words around sentence[i] in a window reduced at random
    to [1, window] (word2vec's b); returns (count, rng)."""
    rng, bits = next_random(rng)
    reach = window - below(bits, window)
    count = 0
    for j in range(max(0, i - reach), min(n, i + reach + 1)):
        if j != i:
            in_ids[count] = row_of(sentence[j], rows_in)
            count += 1
    return count, rng


@inline
def subword_rows(word, subwords, rows_in, out, first):
    """out[first:] = the input rows of ``word`` (its own row, then its character n-gram rows); returns the end."""
    rows, offsets = subwords
    n = first
    for j in range(offsets[word], offsets[word + 1]):
        out[n] = row_of(rows[j], rows_in)
        n += 1
    return n


@inline
def sentence(model, tokens, start, end, samplers, subwords, s, rows_in, rows_out, lr, rng, scratch):
    """Skip-gram and CBOW over one sentence: they differ only in how a window's context rows make the hidden
    row(s) that predict the centre word (``s.combine``, applied by ``update``). With character n-grams
    (``s.subwords``, fastText's models) a word's rows are its own and its n-grams' (see subword_sentence)."""
    keep_threshold, noise, paths, tables = samplers
    n, rng = subsample(tokens, start, end, keep_threshold, rng, scratch.sentence)
    if s.subwords:
        return subword_sentence(model, n, subwords, noise, paths, tables, s, rows_in, rows_out, lr, rng,
                                scratch, end - start)
    one_by_one = s.combine == SEPARATE and not s.batched
    loss, scored = 0.0, 0
    for i in range(n):
        center = scratch.sentence[i]
        n_ctx, rng = window_rows(scratch.sentence, n, i, s.window, rng, rows_in, scratch.in_ids)
        if one_by_one:  # word2vec's skip-gram: one context row at a time, each with targets of its own
            for c in range(n_ctx):
                context = scratch.in_ids[c:]
                n_out, rng = choose_targets(s, center, scratch.gold, 0, noise, paths, rng, rows_out, scratch)
                loss += update(model, context, 1, context, 1, np.float32(1.0), n_out, center, lr, s, tables,
                               scratch)
                scored += n_out
            continue
        if n_ctx == 0:
            continue
        n_out, rng = choose_targets(s, center, scratch.gold, 0, noise, paths, rng, rows_out, scratch)
        loss += update(model, scratch.in_ids, n_ctx, scratch.in_ids, n_ctx, np.float32(1.0), n_out, center, lr, s,
                       tables, scratch)
        scored += (n_ctx if s.combine == SEPARATE else 1) * n_out
    return rng, loss, scored, end - start


WORD_IDS = (0, 0, 0, 0)  # a row map that leaves ids as they are (see losses.row_of)


@jit
def subword_sentence(model, n, subwords, noise, paths, tables, s, rows_in, rows_out, lr, rng, scratch, words):
    """fastText's skip-gram and CBOW over the subsampled sentence scratch.sentence[:n]: every word is the
    mean of its subword rows.

    skip-gram: the centre word's mean predicts each context word (fastText's direction), all of a window's
               context words (each with its own noise words or path) against that one hidden row at once,
               so the centre's rows are combined and take their gradient once per window;
    CBOW:      the mean of all the context words' subword rows predicts the centre word.
    """
    loss, scored = 0.0, 0
    for i in range(n):
        center = scratch.sentence[i]
        n_ctx, rng = window_rows(scratch.sentence, n, i, s.window, rng, WORD_IDS, scratch.context)
        if n_ctx == 0:
            continue
        if s.objective == CBOW:
            n_in = 0
            for c in range(n_ctx):
                n_in = subword_rows(scratch.context[c], subwords, rows_in, scratch.in_ids, n_in)
            n_out, rng = choose_targets(s, center, scratch.gold, 0, noise, paths, rng, rows_out, scratch)
        else:
            n_in = subword_rows(center, subwords, rows_in, scratch.in_ids, 0)
            n_out = 0
            for c in range(n_ctx):
                n_out, rng = choose_targets(s, scratch.context[c], scratch.gold, 0, noise, paths, rng, rows_out,
                                            scratch, n_out)
        loss += update(model, scratch.in_ids, n_in, scratch.in_ids, n_in, np.float32(1.0), n_out, center, lr, s,
                       tables, scratch)
        scored += n_out
    return rng, loss, scored, words


@jit
def supervised(model, rows, start, end, gold, n_gold, frozen, samplers, s, rows_in, rows_out, lr, rng, scratch):
    """A line whose input rows are rows[start:end] (words first, then n-gram buckets) and whose gold labels
    are gold[:n_gold]; frozen rows (--freeze) count in the mean but take no gradient."""
    _, noise, paths, tables = samplers
    n_in, n_grad, words = end - start, 0, 0
    for c in range(n_in):
        row = rows[start + c]
        words += row < s.n_words
        scratch.in_ids[c] = row_of(row, rows_in)
        if frozen[row] == 0:
            scratch.grad_ids[n_grad] = scratch.in_ids[c]
            n_grad += 1
    target = gold[0]
    if n_gold > 1 and s.loss != ONE_VS_ALL:  # one gold label at random, as fastText
        rng, bits = next_random(rng)
        target = gold[below(bits, n_gold)]
    n_out, rng = choose_targets(s, target, gold, n_gold, noise, paths, rng, rows_out, scratch)
    scale = np.float32(1.0) / np.float32(n_in)
    loss = update(model, scratch.in_ids, n_in, scratch.grad_ids, n_grad, scale, n_out, target, lr, s, tables,
                  scratch)
    return rng, loss, 1, words
