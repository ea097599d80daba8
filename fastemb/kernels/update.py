"""The one model update every objective calls (fastText's ``Model::update``).

    hidden  = the input rows themselves (skip-gram: each context row scored on its own)
            | their mean or sum (CBOW, the classifier): one combined row
    fetch   = every row the step touches is requested first (rows.prefetch_row), so their misses overlap
    loss    = losses.loss_update: the chosen output rows move, the hidden gradient comes back
    inputs += the gradient, only to the rows that take it (the classifier's frozen rows do not)

Skip-gram adds each hidden row's own gradient to its row (``add_rows``); CBOW adds the
combined row's gradient to every context row unscaled, as word2vec does; the classifier
scales it by 1/n, the mean's derivative, as fastText does (``scale``).
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import prange

from .compiling import kernel
from .rows import add_rows, add_to_rows, combine_rows, inline, jit, prefetch_row
from .losses import HIERARCHICAL_SOFTMAX, NEGATIVE_SAMPLING, label_probabilities, loss_update

SEPARATE, MEAN, SUM = 0, 1, 2  # how the input rows make the hidden block

# Per-thread scratch, allocated once per kernel call: ids and rows of one update.
Scratch = namedtuple("Scratch", "sentence context in_ids grad_ids gold out_ids labels hidden hidden_id coeff grad "
                                "scores")


@jit
def new_scratch(max_tokens, max_context, max_in, max_hidden, max_out, dim):
    """Scratch for units of at most ``max_tokens`` tokens, ``max_context`` words around a word, ``max_in``
    input rows per update, ``max_hidden`` hidden rows and ``max_out`` output rows."""
    pad = 32  # 128 bytes or more each: no two threads' scratch arrays share a cache line
    return Scratch(np.empty(max(max_tokens, pad), np.int32), np.empty(max(max_context, pad), np.int32),
                   np.empty(max(max_in, pad), np.int32), np.empty(max(max_in, pad), np.int32),
                   np.empty(max(max_in, pad), np.int32), np.empty(max(max_out, pad), np.int32),
                   np.zeros(max(max_out, pad), np.float32),
                   np.empty((1, dim), np.float32), np.zeros(pad, np.int32),
                   np.empty((max_hidden, max(max_out, pad)), np.float32), np.empty((max_hidden, dim), np.float32),
                   np.empty(max(max_out, pad), np.float32))


@inline
def update(model, in_ids, n_in, grad_ids, n_grad, scale, n_out, target, lr, s, tables, scratch):
    """One step on the input rows in_ids[:n_in] against the outputs chosen in scratch.out_ids[:n_out] (and
    scratch.labels), combined and scored as the Settings ``s`` say (s.combine, s.loss); the hidden
    gradient goes to grad_ids[:n_grad] times ``scale`` (SEPARATE: to in_ids, each its own row's gradient).
    Returns the loss."""
    input_rows, output_rows = model
    combine, loss = s.combine, s.loss
    slow_in, slow_out = (s.slow_in, np.float32(s.slow_scale)), (s.slow_out, np.float32(s.slow_scale))
    # Ask for every row the step touches before the arithmetic starts, so that their cache misses
    # overlap: the step is bound by them (docs/performance.md).
    # softmax and ova read every label row, which stay in the cache anyway.
    if loss == NEGATIVE_SAMPLING or loss == HIERARCHICAL_SOFTMAX:
        for o in range(n_out):
            prefetch_row(output_rows, scratch.out_ids[o])
    for c in range(n_in):
        prefetch_row(input_rows, in_ids[c])
    if combine == SEPARATE:
        value = loss_update(loss, input_rows, in_ids, n_in, output_rows, scratch.out_ids, n_out,
                            scratch.labels, target, lr, tables, scratch, slow_out)
        add_rows(input_rows, in_ids, n_in, scratch.grad, slow_in)
        return value
    combine_rows(input_rows, in_ids, n_in, combine == MEAN, scratch.hidden)
    value = loss_update(loss, scratch.hidden, scratch.hidden_id, 1, output_rows, scratch.out_ids, n_out,
                        scratch.labels, target, lr, tables, scratch, slow_out)
    add_to_rows(input_rows, grad_ids, n_grad, scratch.grad[0], scale, slow_in)
    return value


@kernel(fastmath=True, parallel=True)
def predict(loss, input_rows, rows, row_offsets, output_rows, paths, probabilities):
    """probabilities[e] = p(label | the mean of example e's input rows) for every label, by the loss's own
    forward pass (losses.label_probabilities); zeros for an example with no input row."""
    n_examples, dim = len(row_offsets) - 1, input_rows.shape[1]
    block = 256
    for first in prange((n_examples + block - 1) // block):
        hidden = np.empty((1, dim), np.float32)
        scores = np.empty(output_rows.shape[0], np.float32)
        for e in range(first * block, min(n_examples, (first + 1) * block)):
            n = row_offsets[e + 1] - row_offsets[e]
            if n == 0:
                probabilities[e, :] = 0.0
                continue
            combine_rows(input_rows, rows[row_offsets[e]:], n, True, hidden)
            label_probabilities(loss, hidden[0], output_rows, paths, scores, probabilities[e])
