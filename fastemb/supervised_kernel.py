"""The fastText-style classifier as Numba kernels over the sparse row-update core.

An example is the list of input rows it uses (its known words, then its hashed
word n-grams) and its gold labels. One step, exactly as fastText's
``Model::update``:

    hidden       = mean_rows(input rows of the example)
    loss         = softmax_block  (softmax: one gold label, every label row moves)
                 | logistic_rows (ns: the label + negative labels; ova: every label, 0/1)
    input rows  += grad_hidden / n_rows        (add_to_rows; frozen rows skipped)

``train_epoch`` runs one epoch Hogwild like the skip-gram kernel: ``prange`` over
thread ids, chunk k -> thread k % T, a counter-based random stream per chunk,
and the learning rate read off the sum of per-thread progress counters, so a
one-thread run is bit-for-bit reproducible.

Word n-grams are hashed as fastText does (``Dictionary::addWordNgrams``): word
hashes are 32-bit FNV-1a over the word's bytes taken as *signed* chars, stored
as int32 and sign-extended to 64 bits, combined as ``h = h * 116049371 + hash[j]``
and taken ``% buckets``; unknown words still take part in n-grams.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from .core import STRIDE, add_to_rows, logistic_rows, mean_rows, softmax_block
from .sampling import below, draw_noise, next_random, stream_seed

LOSSES = {"softmax": 0, "ns": 1, "ova": 2}
SOFTMAX, NEGATIVE_SAMPLING, ONE_VS_ALL = 0, 1, 2
LR_UPDATE_WORDS = 100   # fastText's lrUpdateRate: re-read the other threads' progress this often
MAX_NOISE_TRIES = 64    # a noise label equal to the target is redrawn, at most this often
NGRAM_MULTIPLIER = np.uint64(116049371)
NOT_A_WORD = -2         # token_word code of a label token (an unknown word is -1)

jit = njit(cache=True, nogil=True, fastmath=True)


@njit(cache=True, nogil=True)
def fnv1a_hashes(data, starts):
    """fastText's word hash for each byte string data[starts[w]:starts[w+1]], as uint32.

    fastText xors each byte as a *signed* char (``uint32_t(int8_t(c))``), so bytes
    >= 0x80 enter as 0xFFFFFFxx; doing the same keeps n-gram buckets identical.
    """
    n = len(starts) - 1
    hashes = np.empty(n, dtype=np.uint32)
    mask = np.uint64(0xFFFFFFFF)
    for w in range(n):
        h = np.uint64(2166136261)
        for i in range(starts[w], starts[w + 1]):
            b = np.uint64(data[i])
            if b >= 128:
                b |= np.uint64(0xFFFFFF00)
            h = ((h ^ b) * np.uint64(16777619)) & mask
        hashes[w] = h
    return hashes


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
def count_types(tokens, n_types):
    """Occurrences of each token type (np.bincount, without its int64 copy of ``tokens``)."""
    counts = np.zeros(n_types, dtype=np.int64)
    for i in range(len(tokens)):
        counts[tokens[i]] += 1
    return counts


@njit(cache=True, nogil=True)
def encode_examples(tokens, line_offsets, token_maps, ngrams):
    """Per line: its input rows (known words, then n-gram buckets) and its known labels.

    tokens       int32 token-type id of every token, line after line
    line_offsets int64 line boundaries into ``tokens`` (len lines + 1)
    token_maps   = (token_word int32, token_label int32, token_hash uint64) per token type:
                   word id, -1 unknown word, NOT_A_WORD for a label token; label id or -1;
                   the sign-extended FNV-1a hash
    ngrams       = int64[word_ngrams, buckets, n_words]: bucket b is input row n_words + b
    Returns (rows, row_offsets, labels, label_offsets, word_counts, unknown_labels):
    word_counts = known word tokens per line, unknown_labels = label tokens not in the model.
    """
    token_word, token_label, token_hash = token_maps
    word_ngrams, buckets, n_words = ngrams[0], ngrams[1], ngrams[2]
    n_lines = len(line_offsets) - 1
    row_offsets = np.zeros(n_lines + 1, dtype=np.int64)
    label_offsets = np.zeros(n_lines + 1, dtype=np.int64)
    word_counts = np.zeros(n_lines, dtype=np.int32)
    unknown_labels = np.zeros(n_lines, dtype=np.int32)
    # Pass 1: sizes. A line with m word tokens (known or not) has sum_i min(N - 1, m - 1 - i) n-grams.
    max_line = 0
    for e in range(n_lines):
        known = word_tokens = gold = unknown = 0
        for i in range(line_offsets[e], line_offsets[e + 1]):
            t = tokens[i]
            if token_word[t] != NOT_A_WORD:
                word_tokens += 1
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
        row_offsets[e + 1] = row_offsets[e] + known + n_grams
        label_offsets[e + 1] = label_offsets[e] + gold
        word_counts[e] = known
        unknown_labels[e] = unknown
        max_line = max(max_line, line_offsets[e + 1] - line_offsets[e])
    rows = np.empty(row_offsets[n_lines], dtype=np.int32)
    labels = np.empty(label_offsets[n_lines], dtype=np.int32)
    line_hashes = np.empty(max_line, dtype=np.uint64)
    bucket_count = np.uint64(max(buckets, 1))
    # Pass 2: fill, in fastText's order (words as they come, then n-grams by start then length).
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


@jit
def set_targets(loss_kind, gold, n_gold, negative, alias, rng, out_rows, out_labels):
    """Choose the output rows this example's loss touches; returns (target, n_out, rng).

    softmax: one gold label drawn at random (fastText's choice for multi-label lines);
             softmax_block itself touches every label row.
    ns:      [target, ``negative`` noise labels != target] with 0/1 labels in out_labels.
    ova:     every label row, 1 for each gold label (all gold labels count, none is drawn).
    """
    alias_threshold, alias_index = alias
    n_labels = alias_threshold.shape[0]
    target = gold[0]
    if loss_kind == ONE_VS_ALL:
        for o in range(n_labels):
            out_rows[o] = o
            out_labels[o] = 0.0
        for j in range(n_gold):
            out_labels[gold[j]] = 1.0
        return target, n_labels, rng
    if n_gold > 1:
        rng, bits = next_random(rng)
        target = gold[below(bits, n_gold)]
    if loss_kind == SOFTMAX:
        return target, 0, rng
    out_rows[0] = target
    out_labels[0] = 1.0
    n_out = 1
    if n_labels > 1:
        for _ in range(negative):
            for _try in range(MAX_NOISE_TRIES):
                noise, rng = draw_noise(rng, alias_threshold, alias_index)
                if noise != target:
                    out_rows[n_out] = noise
                    out_labels[n_out] = 0.0
                    n_out += 1
                    break
    return target, n_out, rng


@jit
def update_example(model, rows, n_rows, targets, lr, scratch, tables):
    """One supervised step on the example whose input rows are rows[:n_rows]; returns its loss.

    model   = (input_rows float32 (R, dim), output_rows float32 (L, dim), frozen uint8 (R,))
    targets = (loss_kind, target, out_rows int32, out_labels float32, n_out)  from set_targets
    scratch = (hidden (1, dim), grad_hidden (1, dim), coeff (1, n_out_max), scores (L,), update_rows int32,
               hidden_id int32[0])
    """
    input_rows, output_rows, frozen = model
    loss_kind, target, out_rows, out_labels, n_out = targets
    hidden, grad_hidden, coeff, scores, update_rows, hidden_id = scratch
    mean_rows(input_rows, rows, n_rows, hidden)
    if loss_kind == SOFTMAX:
        grad_hidden[0, :] = 0.0
        loss = softmax_block(hidden, output_rows, target, lr, scores, coeff[0], grad_hidden)
    else:
        loss = logistic_rows(hidden, hidden_id, 1, output_rows, out_rows, n_out, out_labels, lr, tables, coeff,
                             grad_hidden)
    n_update = 0
    for c in range(n_rows):  # --freeze: pretrained rows take no gradient but still count in the mean
        if frozen[rows[c]] == 0:
            update_rows[n_update] = rows[c]
            n_update += 1
    # fastText scales the hidden gradient by 1/n when the model is supervised (the mean's derivative).
    add_to_rows(input_rows, update_rows, n_update, grad_hidden[0], np.float32(1.0) / np.float32(n_rows))
    return loss


@njit(cache=True, nogil=True, fastmath=True, parallel=True)
def train_epoch(model, examples, samplers, config, schedule, state):
    """Train one epoch; results are in ``model`` and ``state``.

    model    = (input_rows, output_rows, frozen)                 see update_example
    examples = (rows, row_offsets, labels, label_offsets, word_counts, chunk_starts)
               int32 ids, int64 bounds; every example has >= 1 row and >= 1 label
    samplers = (alias_threshold, alias_index, tables)           noise labels for ns; sigmoid tables
    config   = int64[loss_kind, negative, threads, seed, epoch, max_rows, max_labels]
    schedule = float64[lr, words_before_epoch, total_words]     lr decays linearly to 0, as fastText
    state    = (progress int64[threads*STRIDE], losses float64[threads*STRIDE], stop int64[1])
    """
    input_rows, output_rows, frozen = model
    rows, row_offsets, labels, label_offsets, word_counts, chunk_starts = examples
    alias_threshold, alias_index, tables = samplers
    loss_kind, negative, n_threads, seed, epoch = config[0], config[1], config[2], config[3], config[4]
    max_rows, max_labels = config[5], config[6]
    lr0, words_before, total_words = schedule[0], schedule[1], schedule[2]
    progress, losses, stop = state
    alias = (alias_threshold, alias_index)
    n_chunks = len(chunk_starts) - 1
    n_labels, dim = output_rows.shape
    lr_per_word = lr0 / max(total_words, 1.0)

    for t in prange(n_threads):
        slot = t * STRIDE
        example_rows = np.empty(max_rows, dtype=np.int32)
        update_rows = np.empty(max_rows, dtype=np.int32)
        gold = np.empty(max_labels, dtype=np.int32)
        n_out_max = max(negative + 1, n_labels)
        out_rows = np.empty(n_out_max, dtype=np.int32)
        out_labels = np.zeros(n_out_max, dtype=np.float32)
        scratch = (np.empty((1, dim), dtype=np.float32), np.empty((1, dim), dtype=np.float32),
                   np.empty((1, n_out_max), dtype=np.float32), np.empty(n_labels, dtype=np.float32), update_rows,
                   np.zeros(1, dtype=np.int32))
        loss = 0.0
        done_examples = 0
        since_refresh = LR_UPDATE_WORDS  # read the counters before the first example
        lr = np.float32(lr0)
        for k in range(t, n_chunks, n_threads):
            if stop[0] != 0:
                break
            rng = stream_seed(seed, epoch, k)
            for e in range(chunk_starts[k], chunk_starts[k + 1]):
                if since_refresh >= LR_UPDATE_WORDS:
                    done = words_before
                    for u in range(n_threads):
                        done += progress[u * STRIDE]
                    lr = np.float32(max(lr0 - lr_per_word * done, 0.0))
                    since_refresh = 0
                r0, n_rows = row_offsets[e], row_offsets[e + 1] - row_offsets[e]
                for c in range(n_rows):
                    example_rows[c] = rows[r0 + c]
                l0, n_gold = label_offsets[e], label_offsets[e + 1] - label_offsets[e]
                for j in range(n_gold):
                    gold[j] = labels[l0 + j]
                target, n_out, rng = set_targets(loss_kind, gold, n_gold, negative, alias, rng,
                                                 out_rows, out_labels)
                loss += update_example(model, example_rows, n_rows,
                                       (loss_kind, target, out_rows, out_labels, n_out),
                                       lr, scratch, tables)
                done_examples += 1
                progress[slot] += word_counts[e]
                since_refresh += word_counts[e]
                losses[slot] = loss
                losses[slot + 1] = done_examples


@jit
def mean_hidden(input_rows, rows, row_offsets, hidden):
    """hidden[e] = mean of the input rows of example e (zeros for an example with no rows).

    The same ``mean_rows`` as training, so prediction sees exactly the trained hidden vector.
    """
    for e in range(len(row_offsets) - 1):
        n = row_offsets[e + 1] - row_offsets[e]
        if n > 0:
            mean_rows(input_rows, rows[row_offsets[e]:], n, hidden[e:e + 1])
        else:
            hidden[e, :] = 0.0


@njit(cache=True, nogil=True, fastmath=True, parallel=True)
def fill_uniform(rows, low, high, seed):
    """rows = uniform(low, high), filled by all threads in blocks of 4096 rows.

    Each block has its own random stream, so the values do not depend on the thread
    count; a 10 M-bucket table fills in a fraction of the time of numpy's single thread.
    """
    n_rows, dim = rows.shape
    scale = (high - low) / 4294967296.0
    for block in prange((n_rows + 4095) // 4096):
        rng = stream_seed(seed, 1_000_003, block)
        for i in range(block * 4096, min(n_rows, (block + 1) * 4096)):
            row = rows[i]
            for d in range(dim):
                rng, bits = next_random(rng)
                row[d] = np.float32(low + bits * scale)
