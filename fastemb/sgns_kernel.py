"""Skip-gram with negative sampling as a Numba kernel over the sparse row-update core.

One call trains the chunks of one corpus segment (the whole corpus when it is in
memory) for one epoch. Threads (``prange`` over thread ids) claim the next chunk
from one shared counter (an atomic add) and update the shared matrices without
locks (Hogwild). A thread checks the ``stop`` flag before it claims a chunk and
finishes every chunk it claimed, so a run can pause at chunk boundaries (for a
checkpoint or Ctrl-C) and continue exactly there: the chunks below the counter
are done. Each thread publishes the words it has done
in its own cache line of ``progress``; the learning rate is read off the sum of
those counters, so it decays linearly with the work of all threads together and
a one-thread run is bit-for-bit reproducible.

With two or more threads the rows of the ``hot`` most frequent words (ids below
``hot``: the vocabulary is sorted by count) are the ones both threads write all the
time: noise draws follow unigram^0.75, so in en-mix the top 1,024 words take 38 % of
the draws and 46 % of the centre and context words after subsampling. Left shared,
each such write moves the row's cache lines from one core to the other. So every
thread works on private copies of those rows, kept in front of the shared rows in the
same array together with their values at the last merge, and after every chunk
(about 10,000 words) adds what it changed to the shared rows and takes their sum
back (``merge_hot_rows``). No thread's change is more than a chunk old for the
others, and a row nobody touched stays bit-identical. The merge itself is an
unlocked read-add-write, like every Hogwild update: two threads merging the same
row at the same instant can lose part of one chunk's change to it (the sweeps take
microseconds every ~10 ms, so this is rare). With one thread ``hot`` is 0 and
nothing of this runs.

Per sentence: subsample frequent words (word2vec's keep probability), then for
each centre word draw a reduced window b in [0, window) and train
  --kernel pair:    each context row against the centre word + fresh negatives
                    (word2vec and gensim exactly: one hidden row per pair);
  --kernel batched: all context rows of the window at once against the centre
                    word + one set of negatives shared by the window (HogBatch),
                    so each output row is loaded and stored once per window.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from .core import STRIDE, add_rows, logistic_rows
from .corpus import MAX_SENTENCE
from .sampling import below, draw_noise, next_random, stream_seed

KERNELS = {"pair": 0, "batched": 1}


@intrinsic
def claim_next(typingctx, counter):
    """Atomically counter[0] += 1 and return the value before (int64 array): a thread's next chunk.

    Chunks handed out one at a time keep both threads busy to the end of a segment even when
    one of them is slowed down (the other process on a 2-core machine, a page fault).
    """
    if not (isinstance(counter, types.Array) and counter.dtype == types.int64):
        return None

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        array = context.make_array(array_type)(context, builder, args[0])
        first = cgutils.get_item_pointer(context, builder, array_type, array, [context.get_constant(types.intp, 0)])
        return builder.atomic_rmw("add", first, context.get_constant(types.int64, 1), "seq_cst")

    return types.int64(counter), codegen


@njit(cache=True, nogil=True, fastmath=True)
def row_of(word, rows):
    """The row of ``word`` for one thread: its private copy of a hot word's row, else the shared row.

    rows = (hot, this thread's first private row, its first base row, the first shared row);
    ids below ``hot`` are hot.
    """
    hot, private, _, shared = rows
    return word + (private if word < hot else shared)


@njit(cache=True, nogil=True, fastmath=True)
def open_hot_rows(store, rows):
    """This thread's private hot rows and their base rows (their value at the last merge) = the shared rows."""
    hot, private, base, shared = rows
    dim = store.shape[1]
    for h in range(hot):
        mine, before, theirs = store[private + h], store[base + h], store[shared + h]
        for d in range(dim):  # one read: another thread may be merging this row right now
            value = theirs[d]
            mine[d] = value
            before[d] = value


@njit(cache=True, nogil=True, fastmath=True)
def merge_hot_rows(store, rows):
    """Add what this thread changed in its private hot rows since the last merge to the shared rows,
    and continue from the sum (which holds the other threads' merged changes too)."""
    hot, private, base, shared = rows
    dim = store.shape[1]
    for h in range(hot):
        mine, theirs, before = store[private + h], store[shared + h], store[base + h]
        for d in range(dim):
            value = theirs[d] + (mine[d] - before[d])
            theirs[d] = value
            mine[d] = value
            before[d] = value


@njit(cache=True, nogil=True, fastmath=True)
def draw_targets(center, negative, alias, out_rows, rng, rows):
    """out_rows = [center, negatives...] (rows, see row_of); a noise draw equal to the centre is dropped,
    as in word2vec."""
    alias_threshold, alias_index = alias
    out_rows[0] = center
    n_out = 1
    for _ in range(negative):
        word, rng = draw_noise(rng, alias_threshold, alias_index)
        word = row_of(word, rows)
        if word != center:
            out_rows[n_out] = word
            n_out += 1
    return n_out, rng


@njit(cache=True, nogil=True, fastmath=True, parallel=True)
def train_chunks(weights, corpus, samplers, config, schedule, state):
    """Train the segment's chunks from ``next_chunk[0]`` on; results land in the arguments.

    weights  = (input_rows, output_rows)              float32 (2 * threads * hot + V, dim) each: the
               private hot rows of thread t at [t * hot, (t + 1) * hot), their base rows at
               [(threads + t) * hot, ...), word w's shared row at 2 * threads * hot + w
    corpus   = (tokens, offsets, chunk_starts)        int32 ids; int64 sentence and chunk bounds
    samplers = (keep_threshold, alias_threshold, alias_index, tables)
    config   = int64[window, negative, kernel, threads, seed, epoch, first_chunk_id, hot]
    schedule = float64[lr, min_lr, words_before_epoch, total_words]
    state    = (progress, losses, stop, next_chunk): per-thread int64 words done this epoch and
               float64 loss sum and scored pairs (thread t's slot is ``t * STRIDE``), int64 stop
               flag, int64 next unclaimed chunk in next_chunk[0] (may pass n_chunks)
    """
    input_rows, output_rows = weights
    tokens, offsets, chunk_starts = corpus
    keep_threshold, alias_threshold, alias_index, tables = samplers
    window, negative, kernel, n_threads, seed, epoch = config[0], config[1], config[2], config[3], config[4], config[5]
    first_chunk_id, hot = config[6], config[7]
    lr0, min_lr, words_before, total_words = schedule[0], schedule[1], schedule[2], schedule[3]
    progress, losses, stop, next_chunk = state
    alias = (alias_threshold, alias_index)
    n_chunks = len(chunk_starts) - 1
    dim = input_rows.shape[1]
    lr_per_word = (lr0 - min_lr) / max(total_words, 1.0)

    for t in prange(n_threads):
        slot = t * STRIDE
        rows = (hot, t * hot, (n_threads + t) * hot, 2 * n_threads * hot)
        open_hot_rows(input_rows, rows)
        open_hot_rows(output_rows, rows)
        sentence = np.empty(MAX_SENTENCE, dtype=np.int32)
        max_ctx = 2 * window
        grad = np.empty((max_ctx, dim), dtype=np.float32)
        coeff = np.empty((max_ctx, negative + 1), dtype=np.float32)
        ctx_rows = np.empty(max_ctx, dtype=np.int32)
        out_rows = np.empty(negative + 1, dtype=np.int32)
        labels = np.zeros(negative + 1, dtype=np.float32)
        labels[0] = 1.0
        loss = losses[slot]
        scored = losses[slot + 1]
        while stop[0] == 0:
            k = claim_next(next_chunk)  # every claimed chunk is finished, so chunks < next_chunk[0] are done
            if k >= n_chunks:
                break
            rng = stream_seed(seed, epoch, first_chunk_id + k)
            for s in range(chunk_starts[k], chunk_starts[k + 1]):
                done = words_before
                for u in range(n_threads):
                    done += progress[u * STRIDE]
                lr = np.float32(max(lr0 - lr_per_word * done, min_lr))
                start, end = offsets[s], offsets[s + 1]
                n = 0
                for i in range(start, end):
                    rng, bits = next_random(rng)
                    if bits < keep_threshold[tokens[i]]:
                        sentence[n] = row_of(tokens[i], rows)
                        n += 1
                for i in range(n):
                    rng, bits = next_random(rng)
                    reach = window - below(bits, window)
                    lo = max(0, i - reach)
                    hi = min(n, i + reach + 1)
                    center = sentence[i]
                    if kernel == 1:
                        n_ctx = 0
                        for j in range(lo, hi):
                            if j != i:
                                ctx_rows[n_ctx] = sentence[j]
                                n_ctx += 1
                        if n_ctx == 0:
                            continue
                        n_out, rng = draw_targets(center, negative, alias, out_rows, rng, rows)
                        loss += logistic_rows(input_rows, ctx_rows, n_ctx, output_rows, out_rows, n_out,
                                              labels, lr, tables, coeff, grad)
                        add_rows(input_rows, ctx_rows, n_ctx, grad)
                        scored += n_ctx * n_out
                    else:
                        for j in range(lo, hi):
                            if j == i:
                                continue
                            ctx_rows[0] = sentence[j]
                            n_out, rng = draw_targets(center, negative, alias, out_rows, rng, rows)
                            loss += logistic_rows(input_rows, ctx_rows, 1, output_rows, out_rows, n_out,
                                                  labels, lr, tables, coeff, grad)
                            add_rows(input_rows, ctx_rows, 1, grad)
                            scored += n_out
                progress[slot] += end - start
                losses[slot] = loss
                losses[slot + 1] = scored
            merge_hot_rows(input_rows, rows)
            merge_hot_rows(output_rows, rows)
