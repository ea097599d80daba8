"""A distributed run's rounds: which chunks each shard trains in each round, with which slice of the learning
rate schedule, and how the shards' changes to a row are combined into the global model.

Plan. Shard k holds N_k words; over E epochs it trains E x N_k words, in chunks (the trainer's units of
work and random streams). R rounds cut every shard's chunk sequence (epoch after epoch) at the chunk
boundary nearest each r/R of its words, so that every shard is at the same fraction of its work at the
end of a round and the words of all rounds sum to E x sum(N_k), exactly the single-process total.

Schedule. A single process lowers the rate linearly with the words done: lr = lr0 - (lr0 - min_lr) x
done / total. In a round all shards advance together, so when shard k has done w of its L_k words of
round r, the whole cluster has done about B_r + w x G_r / L_k (B_r: all words before the round, G_r: all
words of the round). The worker's trainer gets the kernel's usual schedule scaled by s = L_k / G_r
(words before s x B_r, total s x T), which gives exactly that rate. With one shard (s = 1) it is the
single-process schedule.

Combiners. A round's shards start from the same model and each returns, per changed row, new - old.
``sum`` adds them: what Hogwild threads do, exact while a row's steps in a round are few and small
(each step barely changes the next one). A frequent word's row (or a noise word's output row) takes
hundreds of steps per round in every shard and converges towards the same point in each: summing then
moves it S times the distance (S shards), which overshoots, and past 2 shards diverges. ``mean``
divides a row's sum by the number of shards that changed it: stable, but a row in the linear regime
then learns from 1/S of its data. ``average`` (the default) is local SGD's recipe, which Ji et al.
(2016) use for distributed word2vec: every shard trains with the learning rate times M = min(S,
MAX_RATE_SCALE) and a row's summed change is divided by M. A row whose steps stay linear moves exactly
as the sum at the single rate would move it (S times the steps, times M, divided by M); a saturated row
moves S / M times the way from the model to the mean of the shards' points: there while S <= M, at most
twice the way to it (as far past it as it was short: stable, since every shard pulls it back each
round). M stops growing at MAX_RATE_SCALE because a step at 8 times word2vec's rate diverges, and the
division cannot go lower than S / 2 (below it, the shards' pulls on the rows that saturate add up to a
swing that grows). The most
frequent rows (``slow_rows``) saturate in every shard and the rate times M costs quality in them: their
change is divided by S, the mean of the shards' points, and on the workers they train at the
single-process rate up to MAX_RATE_SCALE shards and at S / MAX_RATE_SCALE times it past them (never above
the workers' rate).
docs/distributed.md has the measurements.
"""
from __future__ import annotations

import numpy as np

RAMP = 4  # the first rounds are 2**-RAMP, 2**(1-RAMP), ... of a full round


def ramp_ends(words: float, round_words: int, ramp: int = RAMP) -> np.ndarray:
    """Where each round ends, as a fraction of a shard's ``words``: rounds of ``round_words``, the first
    ``ramp`` of them shorter (1/2**ramp, then doubling)."""
    sizes, done = [], 0.0
    for step in range(ramp, 0, -1):
        if done >= words:
            break
        sizes.append(min(round_words / 2**step, words - done))
        done += sizes[-1]
    while done < words:
        sizes.append(min(round_words, words - done))
        done += sizes[-1]
    ends = np.cumsum(sizes) / max(words, 1.0) if sizes else np.ones(1)
    ends[-1] = 1.0
    return ends


class RoundPlan:
    """Rounds of ``round_words`` words per shard (the largest shard's; the others in proportion)."""

    def __init__(self, chunk_words: list[np.ndarray], epochs: int, round_words: int, ramp: int = RAMP):
        self.chunk_words = [np.asarray(words, np.int64) for words in chunk_words]
        self.epochs = epochs
        per_shard = [epochs * int(words[-1]) for words in self.chunk_words]
        self.total = float(sum(per_shard))
        ends = np.concatenate(([0.0], ramp_ends(max(per_shard), round_words, ramp)))
        self.timelines = [self._timeline(words) for words in self.chunk_words]
        # bounds[k][r]: the position (chunk number, epochs one after the other) where shard k starts round r
        bounds = np.array([np.searchsorted(line, line[-1] * ends, side="left") for line in self.timelines])
        moves = np.flatnonzero(np.any(np.diff(bounds, axis=1) > 0, axis=0))  # rounds shorter than a chunk go
        self.bounds = list(bounds[:, np.concatenate(([0], moves + 1))])
        self.rounds = len(moves)
        self.before = sum(line[bounds].astype(np.float64) for line, bounds in zip(self.timelines, self.bounds))

    def _timeline(self, words: np.ndarray) -> np.ndarray:
        """Words before each chunk of every epoch in turn, then all of them."""
        starts = [epoch * words[-1] + words[:-1] for epoch in range(self.epochs)]
        return np.concatenate(starts + [np.array([self.epochs * words[-1]], np.int64)])

    def words_before(self, round_index: int) -> float:
        """Words of all shards in the rounds before ``round_index``."""
        return float(self.before[round_index])

    def shard_words(self, shard: int, round_index: int) -> float:
        line, bounds = self.timelines[shard], self.bounds[shard]
        return float(line[bounds[round_index + 1]] - line[bounds[round_index]])

    def spans(self, shard: int, round_index: int) -> list[tuple[int, int, int]]:
        """(epoch, first chunk, last chunk) of shard ``shard`` in round ``round_index``, in order."""
        n = len(self.chunk_words[shard]) - 1
        start, end = (int(b) for b in self.bounds[shard][round_index:round_index + 2])
        spans = []
        while start < end:
            epoch, first = divmod(start, n)
            last = min(n, first + end - start)
            spans.append((epoch, first, last))
            start += last - first
        return spans

    def schedule(self, shard: int, round_index: int) -> tuple[float, float]:
        """(words before, total words) of the kernel's schedule for the shard's part of the round (see above)."""
        share = self.shard_words(shard, round_index) / max(self.words_before(round_index + 1)
                                                           - self.words_before(round_index), 1.0)
        return share * self.words_before(round_index), share * self.total


def shard_seed(seed: int, shard: int) -> int:
    """Shard 0 keeps the run's seed (one worker gives the single-process random streams); the others get
    independent ones."""
    if shard == 0:
        return seed
    return int(np.random.SeedSequence([seed, shard]).generate_state(1, np.uint64)[0] >> np.uint64(1))


MAX_RATE_SCALE = 4  # a step at 8 x word2vec's rate diverges (docs/distributed.md, "The combiner")


def rate_scale(combiner: str, shards: int) -> int:
    """What the shards' learning rate is multiplied by (see ``average`` above): the number of shards, up to
    MAX_RATE_SCALE (a step at 8 x the rate diverges)."""
    return min(shards, MAX_RATE_SCALE) if combiner == "average" else 1


def divisors(combiner: str, shards: int) -> tuple[float, float]:
    """(slow rows', other rows') divisor of a row's summed change under ``sum`` and ``average``. ``average``
    divides the rows that take the worker's rate by that rate's scale, M, so that a linear row keeps the
    single-process pace, but by no less than S / 2: a row that saturates in every shard then moves S / M
    times the way to the mean of the shards' points, and past twice the way the swing grows (it diverged:
    docs/distributed.md). Slow rows' changes are divided by S."""
    if combiner != "average":
        return 1.0, 1.0
    return float(shards), float(max(rate_scale(combiner, shards), shards / 2))


SLOW_FREQUENCY = 1e-4  # a share of all tokens: about a thousand words of an English corpus (docs/distributed.md)


def slow_rows(counts: np.ndarray, combiner: str, shards: int) -> tuple[int, float]:
    """(rows, scale): the rows of each table (the words of frequency SLOW_FREQUENCY or more, and the same ids
    of the output table) that take the single-process rate on a worker whose rate is scaled (``average``),
    as the multiplier of the worker's rate; ``counts``: the vocabulary's, most frequent first.

    The rate times M costs quality in the most frequent rows, which saturate in every shard: their changes
    are divided by S (``divisors``), and past MAX_RATE_SCALE shards they train at S / MAX_RATE_SCALE times
    the single rate (never above the workers'), so as not to fall behind the single-process pace. A row
    slowed down needlessly loses its pace, hence a threshold on frequency. docs/distributed.md has the
    measurements behind each choice."""
    scale = rate_scale(combiner, shards)
    if scale == 1:
        return 0, 1.0
    counts = np.asarray(counts)
    frequent = int(np.count_nonzero(counts >= SLOW_FREQUENCY * counts.sum()))
    return frequent, min(max(1.0, shards / MAX_RATE_SCALE), scale) / scale


class DeltaSum:
    """The shards' changes to one table in a round, combined into it by ``combiner`` (see above)."""

    def __init__(self, table: np.ndarray, combiner: str, shards: int, slow_rows: int = 0):
        self.table, self.combiner, self.slow_rows = table, combiner, slow_rows
        self.divisors = divisors(combiner, shards)
        self.sum = np.zeros_like(table)
        self.touched = np.zeros(len(table), np.int32)

    def add(self, ids: np.ndarray, delta: np.ndarray) -> None:
        from ..kernels.deltas import add_changes
        add_changes(self.sum, self.touched, ids, delta)

    def apply(self) -> tuple[np.ndarray, np.ndarray]:
        """Change the table; returns the rows that changed and their new values (the next round's message)."""
        from ..kernels.deltas import apply_changes
        ids, values = np.empty(len(self.table), np.int32), np.empty_like(self.table)
        n = apply_changes(self.table, self.sum, self.touched, self.combiner == "mean", self.slow_rows,
                          *self.divisors, ids, values)
        return ids[:n].copy(), values[:n]
