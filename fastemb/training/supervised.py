"""The classifier's training: labelled lines in, its job for the trainer, the trained model out.

Reading and encoding labelled lines is ``text/labelled.py``, the model ``models/supervised.py``; training
is the one trainer (``trainer.py``) running the ``supervised`` objective of the epoch kernel: the mean
of a line's word and n-gram rows predicts its label through the chosen loss.
"""
from __future__ import annotations

import os
import time
from dataclasses import asdict

import numpy as np

from .. import __version__
from ..base.config import SupervisedConfig, check_targets
from ..base.errors import FastembError
from ..base.fileio import Inputs, remove_quietly, scratch_file
from ..base.limits import check_supervised_tables
from ..base.progress import Progress
from ..models.supervised import SupervisedModel, initial_rows, label_paths
from ..models.tables import n_output_rows
from ..text.corpus import DiskCorpus
from ..text.labelled import Examples, TrainingData, read_training_data
from .trainer import Job, Trainer

CHUNK_WORDS = 2048         # words per unit of work handed to a thread (also one random stream)
LR_REFRESH_WORDS = 100     # fastText's lrUpdateRate: re-read the other threads' progress this often


def trained_bucket_ids(dataset, n_words: int, n_buckets: int) -> np.ndarray:
    """Sorted ids of the n-gram buckets that some example uses (input rows past the word rows), read a block
    of the examples' rows at a time (in memory or from their scratch file)."""
    used = np.zeros(n_buckets, dtype=bool)
    for rows in dataset.token_blocks():
        for start in range(0, len(rows), 1 << 24):  # bounded temporaries on a large data set
            block = rows[start:start + (1 << 24)]
            used[block[block >= n_words] - n_words] = True
    return np.flatnonzero(used).astype(np.int64)


def examples_dataset(examples: Examples, config: SupervisedConfig, workdir: str | None = None):
    """The examples as the trainer's data: a labelled Corpus in memory, or, past --max-memory (or with
    --on-disk), a DiskCorpus whose input rows wait in a scratch file in ``workdir`` and are trained a
    segment at a time (labels and offsets stay in memory)."""
    from ..text.corpus import Corpus, DiskCorpus
    labelled = dict(labels=examples.labels, label_offsets=examples.label_offsets)
    if 4 * len(examples.rows) <= config.memory_budget():
        return Corpus(examples.rows, examples.row_offsets, **labelled)
    import tempfile
    path = scratch_file(workdir or tempfile.gettempdir(), "examples", ".int32")
    try:
        with open(path, "wb") as handle:
            examples.rows.tofile(handle)
    except OSError as exc:
        remove_quietly(path)
        raise FastembError(f"{path}: cannot write the encoded examples ({exc.strerror or exc})") from None
    return DiskCorpus(path, examples.row_offsets, **labelled)


def supervised_job(data: TrainingData, config: SupervisedConfig, input_rows: np.ndarray,
                   frozen: np.ndarray, dataset=None, output_rows: np.ndarray | None = None) -> Job:
    """The classifier's job: labelled examples, noise labels ~ count^0.5 (fastText), the label tree for hs.
    ``output_rows``: the label rows to start from (a cluster worker's replica), by default zeros."""
    from ..kernels.rows import make_tables
    from ..kernels.losses import LOSSES, NOISE_TRIES
    from ..kernels.sampling import alias_table, noise_distribution
    from ..kernels.update import MEAN

    examples, n_words, n_labels = data.examples, len(data.words), len(data.labels)
    check_targets(config, n_labels)
    paths = label_paths(data.labels.counts, config.loss)
    n_outputs = n_output_rows(n_labels, config.loss)
    samplers = (np.zeros(0, np.uint64), alias_table(noise_distribution(np.maximum(data.labels.counts, 1), 0.5)),
                paths, make_tables())
    max_out = int(np.diff(paths[2]).max()) if config.loss == "hs" else max(config.neg + 1, n_labels)
    settings = dict(loss=LOSSES[config.loss], combine=MEAN, negative=config.neg, noise_tries=NOISE_TRIES,
                    lr_refresh_words=LR_REFRESH_WORDS, n_words=n_words, max_tokens=1, max_context=1,
                    max_in=max(int(examples.n_rows.max()), 1), max_hidden=1, max_out=max_out)
    word_offsets = np.concatenate(([0], np.cumsum(examples.word_counts, dtype=np.int64)))
    dataset = examples_dataset(examples, config) if dataset is None else dataset
    if output_rows is None:
        output_rows = np.zeros((n_outputs, config.dim), np.float32)
    return Job("supervised", config, data.words, dataset, word_offsets, CHUNK_WORDS, input_rows, output_rows,
               samplers, settings,
               hot_candidates=(n_words, n_outputs), labels=data.labels, frozen=frozen)


def warm_up(dim: int = 4) -> float:
    """Compile (or load from Numba's cache) every kernel the classifier uses on a tiny input; returns seconds.

    The reader's tokeniser (``corpus.scan``), the encoder, training and prediction, so
    that read and train times of a run never include compiling.
    """
    import tempfile
    started = time.perf_counter()
    config = SupervisedConfig(dim=dim, epochs=1, threads=1, word_ngrams=2, buckets=7)
    with tempfile.TemporaryDirectory(prefix="fastemb-warm-up-") as directory:
        path = os.path.join(directory, "warm-up.txt")
        with open(path, "wb") as handle:
            handle.write(b"__label__x a b\n__label__y b c\n")
        data = read_training_data(path, config)
    input_rows, frozen, _ = initial_rows(len(data.words), config, None, data.words.words)
    trainer = Trainer(supervised_job(data, config, input_rows, frozen))
    trainer.run()
    finish_report(trainer, {}).probabilities(data.examples)
    return time.perf_counter() - started


def load_pretrained(config: SupervisedConfig):
    """The --pretrained vectors, checked against --dim; None without --pretrained."""
    if not config.pretrained:
        return None
    from ..models.vectors import load_vectors
    vectors = load_vectors(config.pretrained)
    if vectors.dim != config.dim:
        raise FastembError(f"{config.pretrained}: pretrained vectors have dimension {vectors.dim} "
                           f"but --dim is {config.dim}; pass --dim {vectors.dim}")
    return vectors


def prepare(path: Inputs, config: SupervisedConfig, progress: Progress | None = None, vocab=None, labels=None,
            frozen: np.ndarray | None = None, workdir: str | None = None,
            segment_tokens: int | None = None) -> tuple[Trainer, dict]:
    """Read ``path`` (fastText's labelled format; a path or a list of paths read in order, '-' = stdin),
    build (or apply the given) vocabularies, compile; returns the trainer and the report."""
    say = progress.say if progress else (lambda message: None)
    resuming = vocab is not None
    vectors = None if resuming else load_pretrained(config)
    compile_seconds = warm_up()  # first, so that read_seconds does not include loading the reader's kernels
    started = time.perf_counter()
    data = read_training_data(path, config, vocab, labels)
    read_seconds = time.perf_counter() - started
    check_supervised_tables(len(data.words), config.n_buckets, len(data.labels), config.dim)  # before allocating
    examples = data.examples
    say(f"Read {data.lines:,} lines: {len(examples):,} examples, {int(examples.word_counts.sum()):,} words; "
        f"vocabulary {len(data.words):,} words, {len(data.labels):,} labels in {read_seconds:.1f} s"
        + (f"; skipped {data.skipped_no_label:,} lines without a label, "
           f"{data.skipped_no_words:,} without a known word" if data.skipped_no_label or data.skipped_no_words
           else ""))
    say_cuts(say, data.truncated, data.cut_lines)
    say(f"Kernels compiled or loaded from cache in {compile_seconds:.2f} s")
    dataset = examples_dataset(examples, config, workdir)
    if isinstance(dataset, DiskCorpus):
        data.examples.rows = None  # they live in the scratch file now
        if segment_tokens:
            dataset.segment_tokens = int(segment_tokens)
        say(f"Encoded examples kept on disk ({dataset.path}), trained {dataset.segment_tokens:,} input rows "
            "at a time")
    started = time.perf_counter()
    input_rows, initial_frozen, initialised = initial_rows(len(data.words), config, vectors, data.words.words,
                                                          2 * config.hot(len(data.words)) * config.threads)
    trainer = Trainer(supervised_job(data, config, input_rows, initial_frozen if frozen is None else frozen,
                                     dataset))
    init_seconds = time.perf_counter() - started
    if vectors is not None:
        say(f"Initialised {initialised:,} of {len(data.words):,} word rows from {config.pretrained}"
            + (" (frozen)" if config.freeze else ""))
    if progress is not None:
        progress.total_words = trainer.total
        progress.threads = config.threads
    report = {"version": __version__, "objective": "supervised", "input": path,
              "read_seconds": read_seconds, "reader": data.reader, "compile_seconds": compile_seconds,
              "init_seconds": init_seconds, "pretrained_rows": initialised,
              "save_seconds": 0.0, "threads": config.threads, "vocab_size": len(data.words),
              "labels": len(data.labels), "examples": len(examples), "lines": data.lines,
              "skipped_no_label": data.skipped_no_label, "skipped_no_words": data.skipped_no_words,
              "truncated_tokens": data.truncated, "cut_lines": data.cut_lines,
              "corpus_tokens": int(examples.word_counts.sum()), "corpus_on_disk": isinstance(dataset, DiskCorpus),
              "config": asdict(config)}
    return trainer, report


def say_cuts(say, truncated: int, cut_lines: int) -> None:
    """Warn of what the limit table cut while reading (see text/labelled.py)."""
    from ..base.limits import MAX_LINE_TOKENS, MAX_TOKEN_BYTES
    if truncated:
        say(f"Warning: {truncated:,} tokens longer than {MAX_TOKEN_BYTES:,} bytes were cut to that length")
    if cut_lines:
        say(f"Warning: {cut_lines:,} lines longer than {MAX_LINE_TOKENS:,} tokens were cut to that many "
            "(the rest of such a line is not read)")


def finish_report(trainer: Trainer, report: dict) -> SupervisedModel:
    report.update(trainer.stats())
    job = trainer.job
    model = SupervisedModel(job.vocab.words, job.labels.words, trainer.input_rows, trainer.output_rows,
                            trainer.config, job.vocab.counts, job.labels.counts, report)
    model.trained_buckets = trained_bucket_ids(trainer.data, len(job.vocab), trainer.config.n_buckets)
    return model


def save_outputs(model: SupervisedModel, run_info: dict) -> None:
    model.save(run_info["output"])
    if run_info.get("vectors"):
        model.save_vectors(run_info["vectors"], binary=run_info.get("binary", False))


def train_supervised(path: Inputs, config: SupervisedConfig | None = None,
                     progress: Progress | None = None) -> SupervisedModel:
    """Read ``path`` (fastText's labelled format; a path or a list of paths, '-' = stdin), train, and
    return the model with its report."""
    trainer, report = prepare(path, config or SupervisedConfig(), progress)
    trainer.run(progress)
    return finish_report(trainer, report)
