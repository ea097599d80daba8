"""The one epoch kernel: every objective's units of data, trained Hogwild by all threads.

One call trains the chunks of one data segment (all of the data when it is in memory)
for one epoch. Threads (``prange`` over thread ids) claim the next chunk from one
shared counter (an atomic add) and update the shared tables without locks. A thread
checks the ``stop`` flag before it claims a chunk and finishes every chunk it claimed,
so a run can pause at chunk boundaries (for a checkpoint or Ctrl-C) and continue
exactly there: the chunks below the counter are done. Each chunk draws from its own
random stream, seeded by (seed, epoch, chunk). Each thread publishes the words it has
done in its own cache line of ``progress``; the learning rate is read off the sum of
those counters (every ``lr_refresh_words`` words), so it decays linearly with the work
of all threads together, to ``min_lr``, and a one-thread run is bit-for-bit reproducible.

Hot rows. With two or more threads the rows every example writes (the most frequent
words, the inner nodes near the Huffman root, the classifier's labels) would move
their cache lines from core to core on every write. So each thread works on private
copies of the ``hot_in`` lowest input rows and ``hot_out`` lowest output rows (the
tables are ordered hottest first: words by count, Huffman nodes from the root), kept in
front of the shared rows in the same array together with their values at the last
merge, and after every chunk adds what it changed to the shared rows and takes their
sum back (``merge_hot_rows``). No thread's change is more than a chunk old for the
others, and a row nobody touched stays bit-identical. The merge is an unlocked
read-add-write like every Hogwild update: two threads merging the same row at the same
instant can lose part of one chunk's change to it (rare: microseconds every ~10 ms).
With one thread nothing of this runs.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from .compiling import kernel
from .rows import STRIDE, jit
from .objectives import CBOW, SKIPGRAM, SUPERVISED, sentence, supervised
from .sampling import stream_seed
from .update import new_scratch

OBJECTIVES = {"skipgram": SKIPGRAM, "cbow": CBOW, "supervised": SUPERVISED}

# What the kernel is told, by name. Every field keeps one type (int64 or float64) so one compiled kernel
# (cached on disk) serves every run.
Settings = namedtuple("Settings", [
    "objective",         # SKIPGRAM, CBOW or SUPERVISED
    "subwords",          # 1: a word's input rows are its own and its character n-grams' (fastText's models)
    "loss",              # losses.LOSSES
    "combine",           # update.SEPARATE, MEAN or SUM: how input rows make the hidden row
    "batched",           # skip-gram: a window's context rows at once (1) or one at a time (0)
    "window", "negative",
    "noise_tries",       # 1: a noise draw equal to the target is dropped (word2vec); more: redrawn (fastText)
    "threads", "seed", "epoch",
    "first_chunk",       # the id of this segment's first chunk: random streams are numbered across segments
    "hot_in", "hot_out",  # rows of each table every thread keeps a private copy of (0 with one thread)
    "lr_refresh_words",  # re-read the learning rate after this many words (fastText: 100; word2vec: every sentence)
    "n_words",           # input rows that are words (the classifier's n-gram buckets follow them)
    "slow_in", "slow_out",  # rows of each table's store below these learn at slow_scale x the rate (0: none)
    "slow_scale",        # float: a cluster worker's most frequent rows take the single-process rate (rounds.py)
    "max_tokens", "max_context", "max_in", "max_hidden", "max_out",  # scratch sizes per thread
])
Schedule = namedtuple("Schedule", "lr min_lr words_before total_words")


@intrinsic
def claim_next(typingctx, counter):
    """Atomically counter[0] += 1 and return the value before (int64 array): a thread's next chunk.

    Chunks handed out one at a time keep every thread busy to the end of a segment even
    when one of them is slowed down (another process on the machine, a page fault).
    """
    if not (isinstance(counter, types.Array) and counter.dtype == types.int64):
        return None

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        array = context.make_array(array_type)(context, builder, args[0])
        first = cgutils.get_item_pointer(context, builder, array_type, array, [context.get_constant(types.intp, 0)])
        return builder.atomic_rmw("add", first, context.get_constant(types.int64, 1), "seq_cst")

    return types.int64(counter), codegen


@jit
def hot_row_map(hot, threads, thread):
    """(hot, first private row, first base row, first shared row) of ``thread`` in a store of
    2 * threads * hot + n rows: private copies, their merge bases, then the model's rows."""
    return hot, thread * hot, (threads + thread) * hot, 2 * threads * hot


@jit
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


@jit
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


@kernel(fastmath=True, parallel=True)
def train_chunks(model, data, samplers, settings, schedule, state):
    """Train the segment's chunks from ``next_chunk[0]`` on; results land in the arguments.

    model    = (input_store, output_store, frozen, subword_rows, subword_offsets): float32 stores laid out
               as hot_row_map says; frozen uint8 per input row (the classifier's --freeze; all 0
               otherwise); word w's input rows subword_rows[subword_offsets[w]:subword_offsets[w + 1]]
               (with s.subwords)
    data     = (tokens, offsets, labels, label_offsets, chunk_starts): a unit u is tokens[offsets[u]:
               offsets[u + 1]] (a sentence's word ids; a line's input rows) with gold labels
               labels[label_offsets[u]:label_offsets[u + 1]] (classifier only); chunk k is units
               chunk_starts[k] to chunk_starts[k + 1]
    samplers = (keep_threshold, (alias_threshold, alias_index), (path nodes, labels, offsets), tables)
    settings = Settings; schedule = Schedule
    state    = (progress, losses, stop, next_chunk): per-thread int64 words done this epoch and words since
               the rate was read, float64 loss sum, pairs (or examples) scored and the rate, thread t's
               slot at ``t * STRIDE``; int64 stop
               flag; int64 next unclaimed chunk in next_chunk[0] (may pass the number of chunks)
    """
    # Parallel regions take arrays, not tuples of them: unpacked here, packed again in each thread.
    input_store, output_store, frozen, subword_rows, subword_offsets = model
    tokens, offsets, labels, label_offsets, chunk_starts = data
    keep_threshold, (alias_threshold, alias_index), (path_nodes, path_labels, path_offsets), tables = samplers
    progress, losses, stop, next_chunk = state
    s = Settings(*settings)  # the fields as values of this function, not loads through the argument in every loop
    n_chunks = len(chunk_starts) - 1
    lr0, min_lr = schedule.lr, schedule.min_lr
    lr_per_word = (lr0 - min_lr) / max(schedule.total_words, 1.0)

    for t in prange(s.threads):
        slot = t * STRIDE
        rows = (input_store, output_store)
        subwords = (subword_rows, subword_offsets)
        thread_samplers = (keep_threshold, (alias_threshold, alias_index), (path_nodes, path_labels, path_offsets),
                           tables)
        rows_in = hot_row_map(s.hot_in, s.threads, t)
        rows_out = hot_row_map(s.hot_out, s.threads, t)
        open_hot_rows(input_store, rows_in)
        open_hot_rows(output_store, rows_out)
        scratch = new_scratch(s.max_tokens, s.max_context, s.max_in, s.max_hidden, s.max_out, input_store.shape[1])
        loss = losses[slot]
        scored = losses[slot + 1]
        # The rate and the words since it was read live in the thread's slot, so that a segment boundary,
        # a pause or a resume does not move the next refresh; a new epoch (zeros) refreshes at once.
        since_refresh = progress[slot + 1]
        lr = np.float32(losses[slot + 2])
        while stop[0] == 0:
            k = claim_next(next_chunk)  # every claimed chunk is finished, so chunks < next_chunk[0] are done
            if k >= n_chunks:
                break
            rng = stream_seed(s.seed, s.epoch, s.first_chunk + k)
            for u in range(chunk_starts[k], chunk_starts[k + 1]):
                if since_refresh >= s.lr_refresh_words or lr == 0.0:
                    done = schedule.words_before
                    for other in range(s.threads):
                        done += progress[other * STRIDE]
                    lr = np.float32(max(lr0 - lr_per_word * done, min_lr))
                    since_refresh = 0
                start, end = offsets[u], offsets[u + 1]
                if s.objective == SUPERVISED:
                    first_label = label_offsets[u]
                    rng, unit_loss, unit_scored, words = supervised(
                        rows, tokens, start, end, labels[first_label:], label_offsets[u + 1] - first_label,
                        frozen, thread_samplers, s, rows_in, rows_out, lr, rng, scratch)
                else:
                    rng, unit_loss, unit_scored, words = sentence(rows, tokens, start, end, thread_samplers,
                                                                  subwords, s, rows_in, rows_out, lr, rng, scratch)
                loss += unit_loss
                scored += unit_scored
                progress[slot] += words
                since_refresh += words
                losses[slot] = loss
                losses[slot + 1] = scored
                losses[slot + 2] = lr
                progress[slot + 1] = since_refresh
            merge_hot_rows(input_store, rows_in)
            merge_hot_rows(output_store, rows_out)
