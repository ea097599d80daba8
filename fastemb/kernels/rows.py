"""The sparse row-update core: the whole learning rule of fastemb in one place.

An embedding layer is a table of rows. An example builds a *hidden block* from
the input rows it uses (one row per skip-gram context word, or the mean of a
document's rows), scores it against a few *output rows* (the target and its
negatives, or the labels), and backpropagation then touches only those rows:

    logistic_rows   labels in {0, 1}         -> coeff = lr * (label - sigmoid(h . o)),
                                                output rows move, grad = coeff . O
    softmax_rows    one target among n rows  -> g = lr * (onehot - softmax(h . O))
    output_update   g[c] for one output row  -> that row moves, grad_hidden grows
    add_rows / combine_rows / add_to_rows: build the hidden block and apply its gradient.

``losses.py`` chooses the output rows and labels of each loss (negative sampling,
hierarchical softmax, softmax, one-vs-all) and ``update.py`` is the one model
update that every objective calls: skip-gram scores the input rows themselves
(``add_rows`` takes the gradient back), CBOW and the classifier score their
combined row (``add_to_rows``).
Every function here is a small Numba kernel over float32 rows and int32 ids.
"""
from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from .compiling import kernel

MAX_LOGIT = 6.0          # word2vec's MAX_EXP: beyond +-6 the sigmoid is taken as 0 or 1 (sigma(6) = 0.9975)
TABLE_SIZE = 1024
TABLE_SCALE = TABLE_SIZE / (2 * MAX_LOGIT)

STRIDE = 16  # int64s per thread slot in the kernels' shared counters: 128 bytes, never a shared cache line

jit = kernel(fastmath=True)
# The small steps between the epoch loop and the row kernels (choosing targets, the model update, a
# window's rows) are inlined where they are called: passed as calls, their tuple arguments (settings,
# scratch) are copied field by field for every pair, which halved the per-pair kernel's speed.
inline = kernel(fastmath=True, inline="always")


@intrinsic
def prefetch_row(typingctx, matrix, row):
    """Start loading every cache line of matrix[row] for writing, without waiting for it (x86 prefetchw).

    The rows an update will touch are scattered over tables far larger than the caches; asking
    for all of them before the arithmetic lets their cache misses overlap instead of queueing.
    """
    if not (isinstance(matrix, types.Array) and matrix.ndim == 2 and matrix.layout == "C"
            and isinstance(row, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        array = context.make_array(array_type)(context, builder, args[0])
        zero = context.get_constant(types.intp, 0)
        index = context.cast(builder, args[1], signature.args[1], types.intp)
        first = cgutils.get_item_pointer(context, builder, array_type, array, [index, zero])
        byte, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        prefetch = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [byte, i32, i32, i32]),
                                                  "llvm.prefetch")
        start = builder.bitcast(first, byte)
        row_bytes = builder.mul(builder.extract_value(array.strides, 1), builder.extract_value(array.shape, 1))
        with cgutils.for_range_slice(builder, zero, row_bytes, context.get_constant(types.intp, 64)) as (offset, _):
            builder.call(prefetch, [builder.gep(start, [offset]), i32(1), i32(3), i32(1)])  # write, keep, data
        return context.get_dummy_value()

    return types.void(matrix, row), codegen


def make_tables() -> np.ndarray:
    """Rows: sigmoid(x) and log(sigmoid(x)) sampled on [-MAX_LOGIT, MAX_LOGIT).

    A table lookup replaces exp, log and the division of the sigmoid in the hot loop.
    """
    x = (np.arange(TABLE_SIZE, dtype=np.float64) + 0.5) / TABLE_SCALE - MAX_LOGIT
    sigmoid = 1.0 / (1.0 + np.exp(-x))
    return np.stack([sigmoid, np.log(sigmoid)]).astype(np.float32)


@jit
def sigmoid_and_loss(logit, label, tables):
    """(sigmoid(logit), -log p(label)) for a 0/1 label, by table lookup."""
    if logit >= MAX_LOGIT:
        return np.float32(1.0), (np.float32(0.0) if label > 0.5 else np.float32(logit))
    if logit <= -MAX_LOGIT:
        return np.float32(0.0), (np.float32(-logit) if label > 0.5 else np.float32(0.0))
    # Clamped so that even a NaN logit from a diverging run (fastmath assumes none) stays in the table.
    i = min(max(int((logit + MAX_LOGIT) * TABLE_SCALE), 0), TABLE_SIZE - 1)
    if label > 0.5:
        return tables[0, i], -tables[1, i]
    return tables[0, i], -tables[1, TABLE_SIZE - 1 - i]


@jit
def logistic_step(logit, label, lr, tables):
    """(lr * (label - sigmoid(logit)), the loss): the coefficient of one (input row, output row) pair."""
    p, loss = sigmoid_and_loss(logit, label, tables)
    return (label - p) * lr, loss


@jit
def output_update(hidden, n_in, out_row, g, grad_hidden):
    """Apply per-hidden-row gradients ``g[c]`` (already times lr) at one output row.

    grad_hidden[c] += g[c] * out_row uses the row *before* it moves, as word2vec does;
    then out_row += sum_c g[c] * hidden[c]. Only ``out_row`` changes in the model.
    """
    dim = out_row.shape[0]
    for c in range(n_in):
        gc = g[c]
        grad_row = grad_hidden[c]
        for d in range(dim):
            grad_row[d] += gc * out_row[d]
    for c in range(n_in):
        gc = g[c]
        hidden_row = hidden[c]
        for d in range(dim):
            out_row[d] += gc * hidden_row[d]


@jit
def slow_gain(row, slow):
    """What a step of ``row`` is multiplied by: slow = (rows, scale), rows below ``rows`` take ``scale``
    (a cluster worker's most frequent rows learn at the single-process rate, see rounds.slow_rows).
    Always applied, never branched on: which rows are slow is data the CPU cannot predict (a branch per
    row costs more than the multiply, docs/distributed.md), and a step times 1.0 is the step."""
    return slow[1] if row < slow[0] else np.float32(1.0)


@jit
def logistic_rows(in_matrix, in_ids, n_in, out_matrix, out_ids, n_out, labels, lr, tables, coeff, grad, slow):
    """Logistic loss of ``n_in`` input rows against ``n_out`` output rows with 0/1 labels; returns the loss.

    The input rows are read in place (no copy): in_matrix[in_ids[c]] for c < n_in.
    One block of n_in x n_out dot products gives coeff[c, o] = lr * (label_o - sigmoid(h_c . o_o));
    then grad[c] = sum_o coeff[c, o] * o_o is taken with the output rows *before* they
    move (as word2vec), and every output row moves once: o_o += sum_c coeff[c, o] * h_c.
    The caller applies ``grad`` to the input side (skip-gram: to each row; supervised:
    to every row of the mean). Rows are combined two at a time so that each inner loop
    loads two rows per store: the block is bound by loads and stores, not arithmetic.
    ``slow`` = (rows, scale): output rows below ``rows`` move by ``scale`` times their step (see ``slow_gain``).
    """
    dim = out_matrix.shape[1]
    loss = np.float32(0.0)
    if n_in == 1:  # one row (per-pair skip-gram, the classifier): one pass over each output row
        h0 = in_matrix[in_ids[0]]
        grad_row = grad[0]
        grad_row[:] = 0.0
        for o in range(n_out):
            out_row = out_matrix[out_ids[o]]
            label = labels[o]
            logit0 = np.float32(0.0)
            for d in range(dim):
                logit0 += h0[d] * out_row[d]
            g0, l0 = logistic_step(logit0, label, lr, tables)
            coeff[0, o] = g0
            loss += l0
            g_out = g0 * slow_gain(out_ids[o], slow)
            for d in range(dim):
                grad_row[d] += g0 * out_row[d]
                out_row[d] += g_out * h0[d]
        return loss
    for o in range(n_out):
        out_row = out_matrix[out_ids[o]]
        label = labels[o]
        for c in range(0, n_in - 1, 2):
            h0, h1 = in_matrix[in_ids[c]], in_matrix[in_ids[c + 1]]
            logit0 = np.float32(0.0)
            logit1 = np.float32(0.0)
            for d in range(dim):
                logit0 += h0[d] * out_row[d]
                logit1 += h1[d] * out_row[d]
            coeff[c, o], l0 = logistic_step(logit0, label, lr, tables)
            coeff[c + 1, o], l1 = logistic_step(logit1, label, lr, tables)
            loss += l0 + l1
        if n_in % 2 == 1:
            c = n_in - 1
            h0 = in_matrix[in_ids[c]]
            logit0 = np.float32(0.0)
            for d in range(dim):
                logit0 += h0[d] * out_row[d]
            coeff[c, o], l0 = logistic_step(logit0, label, lr, tables)
            loss += l0
    backprop_rows(coeff, n_in, out_matrix, out_ids, n_out, grad)
    for o in range(n_out):
        out_row = out_matrix[out_ids[o]]
        gain = slow_gain(out_ids[o], slow)  # the input rows' gradient (above) took the full step
        for c in range(n_in):
            coeff[c, o] *= gain
        for c in range(0, n_in - 1, 2):
            h0, h1 = in_matrix[in_ids[c]], in_matrix[in_ids[c + 1]]
            g0, g1 = coeff[c, o], coeff[c + 1, o]
            for d in range(dim):
                out_row[d] += g0 * h0[d] + g1 * h1[d]
        if n_in % 2 == 1:
            h0 = in_matrix[in_ids[n_in - 1]]
            g0 = coeff[n_in - 1, o]
            for d in range(dim):
                out_row[d] += g0 * h0[d]
    return loss


@jit
def backprop_rows(coeff, n_in, out_matrix, out_ids, n_out, grad):
    """grad[c] = sum_o coeff[c, o] * out_matrix[out_ids[o]] for c < n_in (overwrites grad[:n_in])."""
    dim = out_matrix.shape[1]
    for c in range(n_in):
        grad_row = grad[c]
        first = n_out % 2
        if first == 1:
            o0 = out_matrix[out_ids[0]]
            g0 = coeff[c, 0]
            for d in range(dim):
                grad_row[d] = g0 * o0[d]
        else:
            grad_row[:] = 0.0
        for o in range(first, n_out - 1, 2):
            o0, o1 = out_matrix[out_ids[o]], out_matrix[out_ids[o + 1]]
            g0, g1 = coeff[c, o], coeff[c, o + 1]
            for d in range(dim):
                grad_row[d] += g0 * o0[d] + g1 * o1[d]


@jit
def softmax_rows(hidden, out_matrix, out_ids, n_out, target, lr, scores, g, grad_hidden):
    """Full softmax of one hidden row (``hidden[0]``) over the output rows ``out_ids[:n_out]``.

    ``target`` is the position of the true row in ``out_ids``; every row moves
    (``output_update``) and ``grad_hidden[0]`` accumulates the hidden gradient.
    ``scores`` is scratch of length n_out; returns -log p(target).
    """
    dim = out_matrix.shape[1]
    top = np.float32(-np.inf)
    for o in range(n_out):
        out_row = out_matrix[out_ids[o]]
        s = np.float32(0.0)
        for d in range(dim):
            s += hidden[0, d] * out_row[d]
        scores[o] = s
        top = max(top, s)
    total = np.float32(0.0)
    for o in range(n_out):
        scores[o] = math.exp(scores[o] - top)
        total += scores[o]
    # total >= 1 (the top score contributes exp(0)); only rows that diverged to inf/NaN make it less
    inv_total = np.float32(1.0) / max(total, np.float32(1e-30))
    for o in range(n_out):
        p = scores[o] * inv_total
        g[0] = ((np.float32(1.0) if o == target else np.float32(0.0)) - p) * lr
        output_update(hidden, 1, out_matrix[out_ids[o]], g, grad_hidden)
    p_target = max(scores[target] * inv_total, np.float32(1e-30))
    return np.float32(-math.log(p_target))


@jit
def add_rows(matrix, rows, n, block, slow):
    """matrix[rows[c]] += block[c] (times ``slow_gain``): the scatter that makes the update sparse."""
    dim = matrix.shape[1]
    for c in range(n):
        row = matrix[rows[c]]
        gain = slow_gain(rows[c], slow)
        for d in range(dim):
            row[d] += gain * block[c, d]


@jit
def combine_rows(matrix, rows, n, average, block):
    """block[0] = sum of matrix[rows[:n]], divided by n when ``average``: the hidden row of CBOW and the classifier."""
    dim = matrix.shape[1]
    block[0, :] = 0.0
    for c in range(n):
        row = matrix[rows[c]]
        for d in range(dim):
            block[0, d] += row[d]
    if average:
        inv_n = np.float32(1.0) / np.float32(n)
        for d in range(dim):
            block[0, d] *= inv_n


@jit
def add_to_rows(matrix, rows, n, vector, scale, slow):
    """matrix[rows[c]] += scale * vector (times ``slow_gain``) for c < n: one gradient shared by every input row."""
    dim = matrix.shape[1]
    for c in range(n):
        row = matrix[rows[c]]
        gain = scale * slow_gain(rows[c], slow)
        for d in range(dim):
            row[d] += gain * vector[d]
