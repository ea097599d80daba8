"""The tables' shapes and their memory layout, one rule each for every reader and writer (models, checkpoints,
the trainer, the cluster): an input row per word (then per n-gram bucket), an output row per target
(word or label), or per inner node of the Huffman tree with hierarchical softmax."""
from __future__ import annotations

import numpy as np


def n_output_rows(n_targets: int, loss: str) -> int:
    """A row per target (word or label); hierarchical softmax has a row per inner node of the tree instead."""
    return n_targets - 1 if loss == "hs" else n_targets


def table_rows(n_words: int, config) -> tuple[int, int]:
    """Rows of a word2vec model's input table (the words, then the n-gram buckets of a subword model) and of
    its output table."""
    return n_words + (config.buckets if config.subwords else 0), n_output_rows(n_words, config.loss)


def supervised_table_rows(n_words: int, n_labels: int, config) -> tuple[int, int]:
    """Rows of a classifier's input table (the words, then the word n-gram buckets) and of its output table."""
    return n_words + config.n_buckets, n_output_rows(n_labels, config.loss)


def rows_after(private: int, n_rows: int, dim: int) -> np.ndarray:
    """``n_rows`` uninitialised float32 rows with room for ``private`` rows in front of them: the trainer
    keeps its threads' hot-row copies there instead of copying a large table (training.trainer._store)."""
    return np.empty((private + n_rows, dim), np.float32)[private:]
