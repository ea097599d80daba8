"""Skip-gram training: plans the work, runs the kernel in a worker thread, reports progress.

Data flows one way: file -> corpus.scan -> Vocab -> corpus.encode -> kernel -> vectors.
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from . import __version__
from .corpus import Corpus, encode, scan
from .errors import FastembError
from .progress import Progress
from .vocab import Vocab

CHUNK_WORDS = 10_000  # unit of work handed to a thread, and of stopping/resuming


@dataclass
class SkipGramConfig:
    dim: int = 100
    window: int = 5
    negative: int = 5
    sample: float = 1e-3
    min_count: int = 5
    max_vocab: int | None = None
    epochs: int = 5
    lr: float = 0.025
    min_lr: float = 0.0001
    threads: int = field(default_factory=lambda: os.cpu_count() or 1)
    seed: int = 1
    kernel: str = "batched"

    def validate(self) -> None:
        from .sgns_kernel import KERNELS
        for name in ("dim", "window", "negative", "epochs", "threads", "min_count"):
            if getattr(self, name) <= 0:
                raise FastembError(f"--{name.replace('_', '-')} must be a positive integer, got {getattr(self, name)}")
        if self.max_vocab is not None and self.max_vocab <= 0:
            raise FastembError(f"--max-vocab must be a positive integer, got {self.max_vocab}")
        if not self.lr > 0:
            raise FastembError(f"--lr must be > 0, got {self.lr}")
        if not 0 <= self.min_lr <= self.lr:
            raise FastembError(f"--min-lr must be between 0 and --lr ({self.lr}), got {self.min_lr}")
        if not self.sample >= 0:
            raise FastembError(f"--sample must be >= 0, got {self.sample}")
        if self.kernel not in KERNELS:
            raise FastembError(f"--kernel must be one of {', '.join(KERNELS)}, got {self.kernel!r}")
        if self.seed < 0:
            raise FastembError(f"--seed must be >= 0, got {self.seed}")


class SkipGramModel:
    """The trained tables: input rows are the word vectors, output rows the context side."""

    def __init__(self, vocab: Vocab, input_rows: np.ndarray, output_rows: np.ndarray,
                 config: SkipGramConfig, report: dict):
        self.vocab = vocab
        self.input_rows = input_rows
        self.output_rows = output_rows
        self.config = config
        self.report = report

    @property
    def vectors(self):
        from .vectors import Vectors
        return Vectors(list(self.vocab.words), self.input_rows)

    def save(self, path: str, binary: bool = False) -> float:
        from .vectors import save_vectors
        started = time.perf_counter()
        save_vectors(path, self.vocab.words, self.input_rows, binary=binary)
        self.report["save_seconds"] = time.perf_counter() - started
        return self.report["save_seconds"]


def plan_chunks(offsets: np.ndarray, chunk_words: int = CHUNK_WORDS) -> np.ndarray:
    """Sentence indices that split the corpus into runs of about ``chunk_words`` tokens."""
    n_sentences = len(offsets) - 1
    wanted = np.arange(0, int(offsets[-1]), chunk_words, dtype=np.int64)
    starts = np.unique(np.searchsorted(offsets[:-1], wanted, side="left"))
    return np.concatenate((starts[starts < n_sentences], [n_sentences])).astype(np.int64)


def read_corpus(path: str, config: SkipGramConfig) -> tuple[Vocab, Corpus]:
    raw = scan(path)
    if raw.n_tokens == 0:
        raise FastembError(f"{path}: the corpus is empty (no tokens)")
    vocab, remap = Vocab.build(raw.words, raw.counts, config.min_count, config.max_vocab)
    return vocab, encode(raw, remap)


class _KernelRunner:
    """Runs a GIL-free kernel in a worker thread so the main thread can report and catch Ctrl-C."""

    def __init__(self, kernel, args):
        self.error = None
        self.thread = threading.Thread(target=self._run, args=(kernel, args), daemon=True)

    def _run(self, kernel, args):
        try:
            kernel(*args)
        except BaseException as exc:  # handed to the main thread
            self.error = exc

    def start(self):
        self.thread.start()
        return self

    def wait(self, poll, interval: float = 0.1):
        while self.thread.is_alive():
            self.thread.join(interval)
            poll()
        if self.error is not None:
            raise self.error


def _kernel_inputs(input_rows, output_rows, corpus, chunk_starts, samplers, config, epoch, words_before, total, state):
    from .sgns_kernel import KERNELS
    return ((input_rows, output_rows), (corpus.tokens, corpus.offsets, chunk_starts), samplers,
            np.array([config.window, config.negative, KERNELS[config.kernel], config.threads, config.seed, epoch],
                     dtype=np.int64),
            np.array([config.lr, config.min_lr, words_before, total], dtype=np.float64), state)


def _new_state(threads: int):
    from .sgns_kernel import STRIDE
    return (np.zeros(threads * STRIDE, np.int64), np.zeros(threads * STRIDE, np.float64), np.zeros(1, np.int64))


def warm_up(dim: int = 8) -> float:
    """Compile (or load from Numba's cache) the kernel on a tiny input; returns seconds spent."""
    from .core import make_tables
    from .sgns_kernel import train_epoch
    from .sampling import alias_table, keep_thresholds, noise_distribution
    started = time.perf_counter()
    counts = np.array([3, 2, 1], dtype=np.int64)
    corpus = Corpus(np.array([0, 1, 2, 0, 1, 0], dtype=np.int32), np.array([0, 6], dtype=np.int64))
    samplers = (keep_thresholds(counts, 0.0), *alias_table(noise_distribution(counts)), make_tables())
    config = SkipGramConfig(dim=dim, window=2, negative=1, epochs=1, threads=1)
    rows = np.zeros((3, dim), np.float32)
    for kernel in ("batched", "pair"):
        config.kernel = kernel
        train_epoch(*_kernel_inputs(rows.copy(), rows.copy(), corpus, np.array([0, 1], np.int64), samplers,
                                    config, 0, 0.0, 6.0, _new_state(1)))
    return time.perf_counter() - started


def train(corpus: Corpus, vocab: Vocab, config: SkipGramConfig, progress: Progress | None = None) -> tuple:
    """Train input and output rows on an encoded corpus; returns (input_rows, output_rows, stats)."""
    import numba

    from .core import make_tables
    from .sampling import alias_table, keep_thresholds, noise_distribution
    from .sgns_kernel import STRIDE, train_epoch

    config.validate()
    numba.set_num_threads(max(1, min(config.threads, numba.config.NUMBA_NUM_THREADS)))
    rng = np.random.default_rng(config.seed)
    input_rows = ((rng.random((len(vocab), config.dim), dtype=np.float32) - np.float32(0.5))
                  / np.float32(config.dim))
    output_rows = np.zeros((len(vocab), config.dim), dtype=np.float32)
    samplers = (keep_thresholds(vocab.counts, config.sample), *alias_table(noise_distribution(vocab.counts)),
                make_tables())
    chunk_starts = plan_chunks(corpus.offsets)
    per_epoch = float(corpus.n_tokens)
    total = per_epoch * config.epochs
    progress = progress or Progress(total, config.threads, quiet=True)
    lr_per_word = (config.lr - config.min_lr) / total
    loss_sum = scored = 0.0
    started = time.perf_counter()
    for epoch in range(config.epochs):
        state = _new_state(config.threads)
        progress_words, losses = state[0], state[1]
        words_before = epoch * per_epoch

        def poll(force=False):
            done = words_before + progress_words[::STRIDE].sum()
            pairs = losses[1::STRIDE].sum() + scored
            mean_loss = (losses[::STRIDE].sum() + loss_sum) / pairs if pairs else 0.0
            progress.update(done, max(config.lr - lr_per_word * done, config.min_lr), mean_loss, force)

        args = _kernel_inputs(input_rows, output_rows, corpus, chunk_starts, samplers, config, epoch,
                              words_before, total, state)
        _KernelRunner(train_epoch, args).start().wait(poll)
        poll(force=True)
        loss_sum += losses[::STRIDE].sum()
        scored += losses[1::STRIDE].sum()
    train_seconds = time.perf_counter() - started
    progress.close()
    stats = {"train_seconds": train_seconds, "words": int(total), "loss": loss_sum / scored if scored else 0.0,
             "words_per_sec": total / train_seconds if train_seconds else 0.0}
    return input_rows, output_rows, stats


def train_skipgram(path: str, config: SkipGramConfig | None = None, progress: Progress | None = None,
                   quiet: bool = True) -> SkipGramModel:
    """Read ``path``, build the vocabulary, train, and return the model with its report."""
    config = config or SkipGramConfig()
    config.validate()
    say = progress.say if progress else (lambda message: None)
    started = time.perf_counter()
    vocab, corpus = read_corpus(path, config)
    read_seconds = time.perf_counter() - started
    say(f"Read {corpus.n_tokens:,} tokens in {corpus.n_sentences:,} sentences; "
        f"vocabulary {len(vocab):,} words (min-count {config.min_count}) in {read_seconds:.1f} s")
    compile_seconds = warm_up()
    say(f"Kernel compiled or loaded from cache in {compile_seconds:.2f} s")
    if progress is not None:
        progress.total_words = float(corpus.n_tokens) * config.epochs
        progress.started = time.perf_counter()
    input_rows, output_rows, stats = train(corpus, vocab, config, progress)
    report = {"version": __version__, "objective": "skipgram", "input": path,
              "read_seconds": read_seconds, "compile_seconds": compile_seconds, **stats,
              "save_seconds": 0.0, "threads": config.threads, "vocab_size": len(vocab),
              "corpus_tokens": corpus.n_tokens, "sentences": corpus.n_sentences, "config": asdict(config)}
    return SkipGramModel(vocab, input_rows, output_rows, config, report)
