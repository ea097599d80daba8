"""The loss family: which output rows an example moves, with which labels, and the probabilities it predicts.

    ns       the target's row and ``negative`` noise rows (unigram^power), labels 1, 0, 0, ...
    hs       the inner nodes on the target's Huffman path (``huffman.py``), labels 1 - code
    softmax  every output row; the target is one of them
    ova      every output row, label 1 for each gold label (several at once: multi-label)

``choose_targets`` fills the output rows and labels of one example; the update
itself is ``rows.logistic_rows`` for ns, hs and ova, and ``rows.softmax_rows``
for softmax (``loss_update``). ``label_probabilities`` is the forward pass of the
same losses, for prediction.

Noise draws equal to the target: word2vec drops them (``noise_tries`` 1), fastText
redraws them (``noise_tries`` > 1, see ``NOISE_TRIES``).
"""
from __future__ import annotations

import numpy as np

from .rows import inline, jit, logistic_rows, softmax_rows
from .sampling import draw_noise

NEGATIVE_SAMPLING, HIERARCHICAL_SOFTMAX, SOFTMAX, ONE_VS_ALL = 0, 1, 2, 3
LOSSES = {"ns": NEGATIVE_SAMPLING, "hs": HIERARCHICAL_SOFTMAX, "softmax": SOFTMAX, "ova": ONE_VS_ALL}
NOISE_TRIES = 64  # fastText redraws a noise label equal to the target; this many draws at most


@inline
def row_of(row, rows):
    """The store row of model row ``row`` for one thread: its private copy of a hot row, else the shared one.

    rows = (hot, this thread's first private row, its first base row, the first shared row); model
    rows below ``hot`` are hot (see kernels/epoch.py). With one thread every offset is 0.
    """
    hot, private, _, shared = rows
    return row + (private if row < hot else shared)


@inline
def choose_targets(s, target, gold, n_gold, noise, paths, rng, rows, scratch, first=0):
    """Fill scratch.out_ids (store rows, see row_of) and scratch.labels from position ``first`` on for one
    target; returns (the end of what is filled, rng).

    s       the kernel's Settings: loss, negative, noise_tries
    target  the model row of the word or label to predict (its position among the outputs for softmax)
    gold    ova: every gold label of the example (gold[:n_gold])
    noise   (alias_threshold, alias_index) over the output rows; paths: (nodes, labels, offsets)
    """
    loss, out_ids, labels = s.loss, scratch.out_ids[first:], scratch.labels[first:]
    n_outputs = noise[0].shape[0]
    if loss == HIERARCHICAL_SOFTMAX:
        nodes, node_labels, offsets = paths
        start = offsets[target]
        n_out = offsets[target + 1] - start
        for j in range(n_out):
            out_ids[j] = row_of(nodes[start + j], rows)
            labels[j] = node_labels[start + j]
        return first + n_out, rng
    if loss == SOFTMAX or loss == ONE_VS_ALL:
        for o in range(n_outputs):
            out_ids[o] = row_of(o, rows)
            labels[o] = 0.0
        for j in range(n_gold):
            labels[gold[j]] = 1.0
        return first + n_outputs, rng
    out_ids[0] = row_of(target, rows)
    labels[0] = 1.0
    n_out = 1
    if n_outputs > 1:
        alias_threshold, alias_index = noise
        for _ in range(s.negative):
            word, rng = draw_noise(rng, alias_threshold, alias_index)
            tries = 1
            while word == target and tries < s.noise_tries:
                word, rng = draw_noise(rng, alias_threshold, alias_index)
                tries += 1
            if word != target:
                out_ids[n_out] = row_of(word, rows)
                labels[n_out] = 0.0
                n_out += 1
    return first + n_out, rng


@inline
def loss_update(loss, hidden, hidden_ids, n_hidden, output_rows, out_ids, n_out, labels, target, lr, tables, scratch,
                slow):
    """Score the hidden rows against the chosen output rows, move those rows, leave the hidden gradient in
    ``scratch.grad[:n_hidden]``; returns the loss. softmax takes one hidden row. ``slow``: see rows.slow_gain
    (the logistic losses; the classifier's softmax has no slow rows)."""
    if loss == SOFTMAX:
        scratch.grad[0, :] = 0.0
        return softmax_rows(hidden[hidden_ids[0]:], output_rows, out_ids, n_out, target, lr, scratch.scores,
                            scratch.coeff[0], scratch.grad)
    return logistic_rows(hidden, hidden_ids, n_hidden, output_rows, out_ids, n_out, labels, lr, tables,
                         scratch.coeff, scratch.grad, slow)


@jit
def label_probabilities(loss, hidden, output_rows, paths, scores, probabilities):
    """p(label | hidden) for every label: the forward pass of ``loss`` (``scores``: scratch per output row).

    softmax: a distribution; ns, ova: a sigmoid per label (fastText's binary logistic losses);
    hs: the product of the branch probabilities along each label's path.
    """
    n_rows, dim = output_rows.shape
    top = np.float32(-np.inf)
    for o in range(n_rows):
        s = np.float32(0.0)
        for d in range(dim):
            s += hidden[d] * output_rows[o, d]
        scores[o] = s
        top = max(top, s)
    if loss == SOFTMAX:
        total = np.float32(0.0)
        for o in range(n_rows):
            scores[o] = np.exp(scores[o] - top)
            total += scores[o]
        for o in range(n_rows):
            probabilities[o] = scores[o] / total
        return
    if loss == HIERARCHICAL_SOFTMAX:
        nodes, node_labels, offsets = paths
        for o in range(n_rows):
            scores[o] = 1.0 / (1.0 + np.exp(-scores[o]))
        for label in range(len(offsets) - 1):
            p = np.float32(1.0)
            for j in range(offsets[label], offsets[label + 1]):
                s = scores[nodes[j]]
                p *= s if node_labels[j] > 0.5 else np.float32(1.0) - s
            probabilities[label] = p
        return
    for o in range(n_rows):
        probabilities[o] = 1.0 / (1.0 + np.exp(-scores[o]))
