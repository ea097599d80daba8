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
``sum`` adds them all: what Hogwild threads do, right when the shards' steps on a row are few and
independent. A row that every shard moves a lot in a round (the frequent words, the noise words every
shard draws) then moves by the shards' number of times what one shard's data asked for: with W shards,
W-times larger steps, the staleness that large rounds amplify. ``mean`` (the default) divides a row's
summed change by the number of shards that changed it (a per-row average, as the model combiners of
distributed word2vec do): a row one shard touched gets that shard's change in full, a row all touched
gets their mean. docs/distributed.md has the measurements behind the default.
"""
from __future__ import annotations

import math

import numpy as np

COMBINERS = ("mean", "sum")


class RoundPlan:
    """Rounds of ``round_words`` words per shard (the largest shard's; the others in proportion)."""

    def __init__(self, chunk_words: list[np.ndarray], epochs: int, round_words: int):
        self.chunk_words = [np.asarray(words, np.int64) for words in chunk_words]
        self.epochs = epochs
        per_shard = [epochs * int(words[-1]) for words in self.chunk_words]
        self.total = float(sum(per_shard))
        self.rounds = max(1, math.ceil(max(per_shard) / max(round_words, 1)))
        self.timelines = [self._timeline(words) for words in self.chunk_words]
        # bounds[k][r]: the position (chunk number, epochs one after the other) where shard k starts round r
        self.bounds = [np.searchsorted(line, line[-1] * np.arange(self.rounds + 1) / self.rounds, side="left")
                       for line in self.timelines]
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


class DeltaSum:
    """The shards' changes to one table in a round, combined into it by ``combiner`` (see above)."""

    def __init__(self, table: np.ndarray, combiner: str):
        self.table, self.combiner = table, combiner
        self.sum = np.zeros_like(table)
        self.touched = np.zeros(len(table), np.int32)

    def add(self, ids: np.ndarray, delta: np.ndarray) -> None:
        self.sum[ids] += delta  # a shard's ids are distinct
        self.touched[ids] += 1

    def apply(self) -> tuple[np.ndarray, np.ndarray]:
        """Change the table; returns the rows that changed and their new values (the next round's message)."""
        ids = np.flatnonzero(self.touched).astype(np.int32)
        change = self.sum[ids]
        if self.combiner == "mean":
            change /= self.touched[ids, None].astype(np.float32)
        self.table[ids] += change
        self.sum[ids] = 0
        self.touched[ids] = 0
        return ids, self.table[ids]
