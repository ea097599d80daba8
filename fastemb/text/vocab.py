"""Vocabulary: words sorted by descending count, ties broken by first occurrence."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..base.errors import FastembError

EOS = "</s>"  # fastText's end-of-line token: a word of the dictionary, with no subwords


@dataclass
class Vocab:
    words: list[str]      # id -> word, most frequent first
    counts: np.ndarray    # int64 id -> count in the training corpus

    def __len__(self) -> int:
        return len(self.words)

    @classmethod
    def build(cls, words: list[str], counts: np.ndarray, min_count: int = 5,
              max_vocab: int | None = None) -> tuple["Vocab", np.ndarray]:
        """Keep words seen at least ``min_count`` times, at most ``max_vocab`` of them.

        Returns the vocabulary and ``remap``: index -> vocabulary id, -1 for dropped
        words. The stable sort keeps first-occurrence order among equal counts, as
        gensim does, so the order is the same on every run and machine.
        """
        order = np.argsort(-counts, kind="stable")
        order = order[counts[order] >= min_count]
        if max_vocab is not None:
            order = order[:max_vocab]
        if len(order) == 0:
            raise FastembError(f"no word occurs at least {min_count} times (--min-count); "
                               f"the most frequent occurs {int(counts.max()) if len(counts) else 0} times")
        remap = np.full(len(counts), -1, dtype=np.int32)
        remap[order] = np.arange(len(order), dtype=np.int32)
        return cls([words[i] for i in order], counts[order].astype(np.int64)), remap

    def remap(self, words) -> np.ndarray:
        """The id of each of ``words`` (any iterable of str) in this vocabulary, -1 for a word it lacks: how a
        corpus read with provisional ids is encoded with a vocabulary built elsewhere."""
        return positions(self.words, words)


def positions(table: list[str], words) -> np.ndarray:
    """The position of each of ``words`` in ``table`` (int32), -1 for a word it lacks."""
    index = {word: i for i, word in enumerate(table)}
    return np.array([index.get(word, -1) for word in words], dtype=np.int32)
