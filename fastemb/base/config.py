"""Settings of every objective, with their defaults in one place (the CLI and the Python API take them from here).

``Word2VecConfig`` covers skip-gram and CBOW (word2vec's names and defaults),
``SupervisedConfig`` the classifier (fastText's). What they share — dimensions,
schedule, threads, seed, hot rows — lives in ``TrainConfig``.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import NamedTuple

from .checks import check_fields
from .errors import FastembError

MODELS = ("skipgram", "cbow")
WORD_LOSSES = ("ns", "hs")
SUPERVISED_LOSSES = ("softmax", "ns", "ova", "hs")
KERNELS = ("batched", "pair")
COMBINERS = ("average", "sum", "mean")  # how a cluster round merges the workers' changes (cluster/rounds.py)


class SubwordSettings(NamedTuple):
    """Character n-gram lengths (minn..maxn) and the number of hash buckets (fastText's -minn -maxn -bucket)."""

    minn: int = 3
    maxn: int = 6
    buckets: int = 2_000_000

    @property
    def enabled(self) -> bool:
        return self.maxn > 0

    def validate(self) -> None:
        if self.minn < 0 or self.maxn < 0:
            raise FastembError(f"--minn and --maxn must be >= 0, got {self.minn} and {self.maxn}")
        if self.maxn > 0 and self.minn > self.maxn:
            raise FastembError(f"--minn ({self.minn}) must not exceed --maxn ({self.maxn})")
        if self.maxn > 0 and self.buckets <= 0:
            raise FastembError(f"--buckets must be a positive integer with --maxn > 0, got {self.buckets}")


def _positive(config, *names) -> None:
    for name in names:
        value = getattr(config, name)
        if not isinstance(value, int) or value <= 0:
            raise FastembError(f"--{name.replace('_', '-')} must be a positive integer, got {value}")


@dataclass(frozen=True)
class TrainConfig:
    """What every objective has. Settings are made once: frozen, and checked when they are made;
    ``dataclasses.replace`` makes a changed copy, checked again."""

    dim: int = 100
    epochs: int = 5
    lr: float = 0.025
    min_lr: float = 0.0001
    threads: int = field(default_factory=lambda: os.cpu_count() or 1)
    seed: int = 1
    hot_rows: int | None = None  # threads > 1: rows of each table every thread trains a private copy of (None: auto)
    on_disk: bool = False        # keep the encoded data in a file, trained a segment at a time
    max_memory: float = 64.0     # MB of encoded token ids (or input rows) kept in memory; more is trained from disk

    def __post_init__(self):
        self.validate()

    def memory_budget(self) -> float:
        """Bytes of encoded data kept in memory: past ~16 M ids they would be the largest thing in memory,
        and training from disk a segment at a time costs nothing measurable (one thread: the same result)."""
        if self.on_disk:
            return 0.0
        if not self.max_memory >= 0:
            raise FastembError(f"--max-memory must be >= 0 MB, got {self.max_memory}")
        return self.max_memory * 2**20

    def validate(self) -> None:
        from .limits import check_numbers
        check_fields(self)  # before any comparison: a str or None in a number's place is one clear error
        check_numbers(self)  # NaN, caps (--dim, --window, --negative, --lr, --buckets, ...), 64-bit integers
        _positive(self, "dim", "epochs", "threads")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise FastembError(f"--lr must be > 0, got {self.lr}")
        if not 0 <= self.min_lr <= self.lr:
            raise FastembError(f"--min-lr must be between 0 and --lr ({self.lr}), got {self.min_lr}")
        if self.seed < 0:
            raise FastembError(f"--seed must be >= 0, got {self.seed}")
        if self.hot_rows is not None and self.hot_rows < 0:
            raise FastembError(f"--hot-rows must be >= 0, got {self.hot_rows}")

    def hot(self, n_rows: int) -> int:
        """How many of a table's ``n_rows`` hottest rows get per-thread private copies (see kernels/epoch.py):
        none with one thread; by default 1,024, fewer if the copies (and their merge bases) would cost
        more than a quarter of those rows."""
        if self.threads == 1:
            return 0
        if self.hot_rows is not None:
            return min(self.hot_rows, n_rows)
        return min(1024, n_rows // (8 * self.threads))


@dataclass(frozen=True)
class Word2VecConfig(TrainConfig):
    """Skip-gram and CBOW with word2vec's semantics and defaults."""

    model: str = "skipgram"
    loss: str = "ns"
    lr: float | None = None       # None: 0.025 for skip-gram, 0.05 for CBOW (word2vec's defaults)
    window: int = 5
    negative: int = 5
    sample: float = 1e-3
    min_count: int = 5
    max_vocab: int | None = None
    kernel: str = "batched"
    cbow_sum: bool = False        # CBOW: the sum of the context rows instead of their mean
    minn: int = 3                 # character n-grams of minn..maxn characters (fastText's subwords) ...
    maxn: int = 0                 # ... 0: none, word2vec's model
    buckets: int = 2_000_000      # hash buckets for the character n-grams
    init: str | None = None       # continue from these vectors (word2vec file) or a checkpoint
    max_words: int | None = 10_000_000  # distinct words counted before rare ones are pruned (ReduceVocab)

    def __post_init__(self):
        if self.lr is None:
            object.__setattr__(self, "lr", 0.05 if self.model == "cbow" else 0.025)
        super().__post_init__()

    @property
    def objective(self) -> str:
        return self.model

    def validate(self) -> None:
        if self.model not in MODELS:
            raise FastembError(f"model must be one of {', '.join(MODELS)}, got {self.model!r}")
        super().validate()
        _positive(self, "window", "negative", "min_count")
        for name in ("max_vocab", "max_words"):
            if getattr(self, name) is not None:
                _positive(self, name)
        if not self.sample >= 0:
            raise FastembError(f"--sample must be >= 0, got {self.sample}")
        if self.kernel not in KERNELS:
            raise FastembError(f"--kernel must be one of {', '.join(KERNELS)}, got {self.kernel!r}")
        if self.loss not in WORD_LOSSES:
            raise FastembError(f"--loss must be one of {', '.join(WORD_LOSSES)}, got {self.loss!r}")
        self.subword_settings.validate()
        if self.subwords and self.init:
            raise FastembError("--init continues word2vec models only; train subword models (--maxn > 0) from scratch")

    @property
    def subwords(self) -> bool:
        return self.maxn > 0

    @property
    def subword_settings(self) -> SubwordSettings:
        return SubwordSettings(self.minn, self.maxn, self.buckets)


@dataclass(frozen=True)
class SupervisedConfig(TrainConfig):
    """The fastText-style classifier with fastText's defaults (its learning rate decays to 0)."""

    lr: float = 0.1
    min_lr: float = 0.0
    loss: str = "softmax"
    neg: int = 5
    min_count: int = 1
    min_count_label: int = 1
    word_ngrams: int = 1
    minn: int = 0                 # character n-grams of minn..maxn characters, as fastText's -minn -maxn ...
    maxn: int = 0                 # ... 0: none (fastText's default for classifiers)
    buckets: int = 2_000_000      # hash buckets shared by word n-grams and character n-grams
    label_prefix: str = "__label__"
    eos: bool = True              # end every line with the token </s>, as fastText does
    pretrained: str | None = None
    freeze: bool = False

    objective = "supervised"

    def validate(self) -> None:
        super().validate()
        _positive(self, "min_count", "min_count_label", "neg")
        if self.word_ngrams < 1:
            raise FastembError(f"--word-ngrams must be >= 1, got {self.word_ngrams}")
        if self.word_ngrams > 1 and self.buckets <= 0:
            raise FastembError(f"--buckets must be a positive integer with --word-ngrams > 1, got {self.buckets}")
        self.subword_settings.validate()
        if self.loss not in SUPERVISED_LOSSES:
            raise FastembError(f"--loss must be one of {', '.join(SUPERVISED_LOSSES)}, got {self.loss!r}")
        if not self.label_prefix:
            raise FastembError("--label-prefix must not be empty")
        if self.freeze and not self.pretrained:
            raise FastembError("--freeze needs --pretrained VECTORS (it keeps the pretrained rows fixed)")

    @property
    def subword_settings(self) -> SubwordSettings:
        return SubwordSettings(self.minn, self.maxn, self.buckets)

    @property
    def n_buckets(self) -> int:
        """Extra input rows for word and character n-grams: none without either (fastText keeps them unused)."""
        return self.buckets if self.word_ngrams > 1 or self.maxn > 0 else 0


# Each objective's settings: what a checkpoint's or a job's objective name stands for.
OBJECTIVES = {"skipgram": Word2VecConfig, "cbow": Word2VecConfig, "supervised": SupervisedConfig}
TARGETS = {"skipgram": "words", "cbow": "words", "supervised": "labels"}  # what each objective's output rows score


def check_targets(config, n_targets: int, where: str | None = None) -> None:
    """Hierarchical softmax scores a target along its path in a tree over the targets: with fewer than 2 there
    is no inner node, no output row, and the kernels would read rows that do not exist. The trainer asks
    about the data it read (``where`` None), every model reader about its file (``where``: the file)."""
    if config.loss != "hs" or n_targets >= 2:
        return
    kind = TARGETS[config.objective]
    if where is None:
        raise FastembError(f"--loss hs needs at least 2 {kind}, got {n_targets}")
    raise FastembError(f"{where}: loss hs needs at least 2 {kind}, the file has {n_targets}")
