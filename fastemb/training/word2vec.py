"""word2vec's objectives, skip-gram and CBOW: read a corpus, build the vocabulary, hand the trainer a job.

Data flows one way: file -> corpus.scan -> Vocab -> corpus.encode -> Job -> trainer -> vectors.
"""
from __future__ import annotations

import dataclasses
import tempfile
import time
import zipfile
from dataclasses import asdict

import numpy as np

from .. import __version__
from ..base.config import Word2VecConfig, check_targets
from ..base.limits import MAX_SENTENCE, MAX_TOKEN_BYTES
from ..text.corpus import Corpus, DiskCorpus, encode, scan
from ..text.offsets import longest_sentence
from ..base.errors import FastembError
from ..base.fileio import Inputs, input_name, remove_quietly, scratch_file
from ..base.limits import check_word2vec_tables
from ..base.progress import Progress
from .trainer import Job, Trainer
from ..models.tables import rows_after, table_rows
from ..models.word2vec import Word2VecModel
from ..text.vocab import Vocab

CHUNK_WORDS = 10_000  # unit of work handed to a thread, and of stopping/resuming


def read_corpus(path: Inputs, config: Word2VecConfig, vocab: Vocab | None = None,
                workdir: str | None = None) -> tuple[Vocab, Corpus | DiskCorpus]:
    """Scan, count and encode ``path`` (or several paths, one corpus); over the memory budget the
    tokens live in ``workdir``.

    With ``vocab`` given (resuming, continuing), the corpus is encoded with it instead.
    """
    budget = config.memory_budget()
    workdir = workdir or tempfile.gettempdir()
    raw = scan(path, memory_budget=budget, spill_dir=workdir, max_words=config.max_words)
    try:
        if raw.n_tokens == 0:
            raise FastembError(f"{input_name(path)}: the corpus is empty (no tokens)")
        if vocab is None:
            vocab, remap = Vocab.build(raw.words, raw.counts, config.min_count, config.max_vocab)
        else:
            remap = vocab.remap(raw.words)
        on_disk = raw.spill is not None or 4 * raw.n_tokens > budget
        cache = scratch_file(workdir, "corpus", ".int32") if on_disk else None
        return vocab, encode(raw, remap, cache)
    finally:
        if raw.spill is not None:
            remove_quietly(raw.spill)


def initial_input_rows(n_words: int, config: Word2VecConfig, out: np.ndarray | None = None) -> np.ndarray:
    """uniform(-1/dim, 1/dim), as gensim and fastText; computed in place (no temporary copies of the table).

    word2vec C draws from half that range; the wider start learns more in one epoch (docs/how-it-works.md).
    """
    rows = np.random.default_rng(config.seed).random((n_words, config.dim), dtype=np.float32, out=out)
    rows -= np.float32(0.5)
    rows *= np.float32(2.0 / config.dim)
    return rows


def starting_rows(n_words: int, config: Word2VecConfig, input_rows: np.ndarray | None = None,
                  output_rows: np.ndarray | None = None, private: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The tables a run starts from: ``input_rows``, or initial_input_rows made in place after ``private``
    rows of room (the trainer's hot-row copies, see models/tables.rows_after); ``output_rows`` if they fit the
    loss's output table (--init's model may have been trained with the other loss), else zeros."""
    n_inputs, n_outputs = table_rows(n_words, config)
    if input_rows is None:
        input_rows = initial_input_rows(n_inputs, config, out=rows_after(private, n_inputs, config.dim))
    if output_rows is None or output_rows.shape[0] != n_outputs:
        output_rows = np.zeros((n_outputs, config.dim), np.float32)
    return input_rows, output_rows


def check_tables(vocab: Vocab, config: Word2VecConfig) -> None:
    """Refuse a run whose tables cannot fit: the rows, and with subwords every word's list of n-gram rows
    (about maxn x its length: counted first, without allocating them)."""
    ngram_ids = 0
    if config.subwords:
        from ..text.subwords import vocabulary_subword_count
        ngram_ids = vocabulary_subword_count(vocab.words, config.subword_settings)
    check_word2vec_tables(len(vocab), config.buckets if config.subwords else 0, config.dim, ngram_ids)


def word2vec_job(corpus, vocab: Vocab, config: Word2VecConfig, input_rows: np.ndarray | None = None,
                 output_rows: np.ndarray | None = None) -> Job:
    """Skip-gram or CBOW over an encoded corpus: the samplers, the tables and the kernel's settings."""
    from ..kernels.rows import make_tables
    from ..kernels.huffman import huffman_paths, max_path_length
    from ..kernels.losses import LOSSES, NOISE_TRIES
    from ..kernels.sampling import alias_table, keep_thresholds, noise_distribution
    from ..kernels.update import MEAN, SEPARATE, SUM

    if longest_sentence(corpus.offsets) > MAX_SENTENCE:  # the kernel's buffer size
        raise FastembError(f"a sentence is longer than {MAX_SENTENCE:,} tokens; split it (corpus.scan does)")
    n_words, hs = len(vocab), config.loss == "hs"
    check_targets(config, n_words)
    if hs:
        paths = huffman_paths(vocab.counts)
        max_out = max_path_length(paths)
    else:
        paths = (np.zeros(0, np.int32), np.zeros(0, np.float32), np.zeros(1, np.int64))
        max_out = config.negative + 1
    subwords, max_rows = None, 1
    if config.subwords:  # fastText's model: a word's rows are its own and its character n-grams'
        from ..text.subwords import vocabulary_subword_rows
        subwords = vocabulary_subword_rows(vocab.words, config.subword_settings)
        max_rows = int(np.diff(subwords[1]).max())
    input_rows, output_rows = starting_rows(n_words, config, input_rows, output_rows,
                                            private=2 * config.hot(n_words) * config.threads)
    # Noise words ~ count^0.75 as word2vec draws them, count^0.5 in fastText's subword models as fastText does.
    noise = noise_distribution(vocab.counts, 0.5 if config.subwords else 0.75)
    samplers = (keep_thresholds(vocab.counts, config.sample), alias_table(noise),
                tuple(paths), make_tables())
    skipgram = config.model == "skipgram"
    context = 2 * config.window
    if not config.subwords:
        combine, max_in, max_hidden = (SEPARATE, context, context) if skipgram else (MEAN, context, 1)
    else:  # skip-gram: the centre's rows against every context word's targets; CBOW: all context words' rows
        combine, max_in, max_hidden = MEAN, (max_rows if skipgram else context * max_rows), 1
        max_out *= context if skipgram else 1
    if config.cbow_sum and not skipgram:
        combine = SUM
    settings = dict(loss=LOSSES[config.loss], combine=combine, subwords=int(config.subwords),
                    batched=int(config.kernel == "batched"), window=config.window, negative=config.negative,
                    noise_tries=NOISE_TRIES if config.subwords else 1, lr_refresh_words=1, n_words=n_words,
                    max_tokens=MAX_SENTENCE, max_context=context, max_in=max_in, max_hidden=max_hidden,
                    max_out=max_out)
    extra = {"subwords": subwords} if subwords is not None else {}
    return Job(config.model, config, vocab, corpus, corpus.offsets, CHUNK_WORDS, input_rows, output_rows, samplers,
               settings, hot_candidates=(n_words, len(output_rows)), **extra)


def warm_up(dim: int = 8) -> float:
    """Compile (or load from Numba's cache) the epoch kernel on a tiny input; returns seconds spent."""
    started = time.perf_counter()
    corpus = Corpus(np.array([0, 1, 2, 0, 1, 0], dtype=np.int32), np.array([0, 6], dtype=np.int64))
    vocab = Vocab(["a", "b", "c"], np.array([3, 2, 1], dtype=np.int64))
    Trainer(word2vec_job(corpus, vocab, Word2VecConfig(dim=dim, window=2, negative=1, epochs=1, threads=1))).run()
    return time.perf_counter() - started


def initial_rows(vocab: Vocab, config: Word2VecConfig) -> tuple[Vocab, np.ndarray, np.ndarray, int]:
    """Merge the vocabulary of ``config.init`` into ``vocab`` and start from its rows.

    ``init`` is a word2vec text/binary file (input rows only) or a fastemb checkpoint
    (input and output rows). Its words missing from the corpus are kept (count 0: never
    drawn as noise, never trained) so the output still has them; new words start as usual.
    """
    from .checkpoint import load_checkpoint
    from ..models.vectors import load_vectors

    outputs = None
    if zipfile.is_zipfile(config.init):  # a checkpoint (an .npz); its errors are the ones to show
        saved = load_checkpoint(config.init)
        words, inputs = saved["words"], saved["input_rows"]
        if saved["meta"]["objective"] not in ("skipgram", "cbow") or len(inputs) != len(words):
            raise FastembError(f"{config.init}: --init takes word2vec vectors or a skip-gram/CBOW checkpoint "
                               "without subwords (this checkpoint's input rows are not one per word)")
        if saved["output_rows"].shape[0] == len(words):  # a word per output row (negative sampling)
            outputs = saved["output_rows"]
    else:
        loaded = load_vectors(config.init)
        words, inputs = loaded.words, loaded.matrix
    if inputs.shape[1] != config.dim:
        raise FastembError(f"{config.init}: vectors have dimension {inputs.shape[1]} but --dim is {config.dim}")
    index = {word: i for i, word in enumerate(vocab.words)}
    extra = [word for word in words if word not in index]
    merged = Vocab(vocab.words + extra, np.concatenate((vocab.counts, np.zeros(len(extra), np.int64))))
    for word in extra:
        index[word] = len(index)
    rows = np.array([index[word] for word in words], dtype=np.int64)
    input_rows = initial_input_rows(len(merged), config)
    input_rows[rows] = inputs
    output_rows = None
    if outputs is not None and config.loss == "ns":
        output_rows = np.zeros_like(input_rows)
        output_rows[rows] = outputs
    return merged, input_rows, output_rows, len(words) - len(extra)


def prepare(path: Inputs, config: Word2VecConfig, progress: Progress | None = None, vocab: Vocab | None = None,
            workdir: str | None = None, segment_tokens: int | None = None, **_) -> tuple[Trainer, dict]:
    """Read ``path`` (one path or a list, read in order as one corpus; '-' is standard input), build
    (or apply the given) vocabulary, compile; returns the trainer and report.

    With ``vocab`` given (resuming a checkpoint), the corpus is encoded with that
    vocabulary instead of building one.
    """
    say = progress.say if progress else (lambda message: None)
    resuming = vocab is not None
    started = time.perf_counter()
    vocab, corpus = read_corpus(path, config, vocab, workdir)
    check_tables(vocab, config)  # before allocating
    if segment_tokens and isinstance(corpus, DiskCorpus):
        corpus.segment_tokens = int(segment_tokens)
    read_seconds = time.perf_counter() - started
    kept_by = ("the checkpoint's vocabulary" if resuming else f"--min-count {config.min_count}"
               + (f" and --max-vocab {config.max_vocab:,}" if config.max_vocab else ""))
    say(f"Read {corpus.tokens_read:,} tokens ({corpus.n_tokens:,} kept by {kept_by}) in {read_seconds:.1f} s: "
        f"{corpus.n_sentences:,} sentences, vocabulary {len(vocab):,} words")
    if corpus.truncated:
        say(f"Warning: {corpus.truncated:,} tokens longer than {MAX_TOKEN_BYTES:,} bytes were cut to that length")
    if corpus.pruned[0]:
        say(f"Warning: the word counts passed --max-words {config.max_words:,} distinct words and were pruned "
            f"{corpus.pruned[0]} time(s), the last time of words seen at most {corpus.pruned[1]} time(s) so far; "
            f"a pruned word's earlier occurrences are not counted (as word2vec's ReduceVocab)")
    if isinstance(corpus, DiskCorpus):
        say(f"Encoded corpus kept on disk ({corpus.path}), trained {corpus.segment_tokens:,} tokens at a time")
    input_rows = output_rows = None
    if config.init and not resuming:
        vocab, input_rows, output_rows, known = initial_rows(vocab, config)
        say(f"Continuing from {config.init}: {known:,} of its words are in the corpus vocabulary; "
            f"{len(vocab):,} words in all")
    compile_seconds = warm_up()
    say(f"Kernel compiled or loaded from cache in {compile_seconds:.2f} s")
    trainer = Trainer(word2vec_job(corpus, vocab, config, input_rows, output_rows))
    if progress is not None:
        progress.total_words = trainer.total
        progress.threads = config.threads
        progress.started = time.perf_counter()
    report = {"version": __version__, "objective": config.model, "input": path, "tokens_read": corpus.tokens_read,
              "read_seconds": read_seconds, "compile_seconds": compile_seconds,
              "save_seconds": 0.0, "threads": config.threads, "vocab_size": len(vocab),
              "corpus_tokens": corpus.n_tokens, "sentences": corpus.n_sentences,
              "corpus_on_disk": isinstance(corpus, DiskCorpus), "truncated_tokens": corpus.truncated,
              "count_prunes": corpus.pruned[0], "count_prune_threshold": corpus.pruned[1],
              "config": asdict(config)}
    return trainer, report


def finish_report(trainer: Trainer, report: dict) -> Word2VecModel:
    report.update(trainer.stats())
    return Word2VecModel(trainer.job.vocab, trainer.input_rows, trainer.output_rows, trainer.config, report)


def save_outputs(model: Word2VecModel, run_info: dict) -> None:
    model.save_vectors(run_info["output"], binary=run_info.get("binary", False))
    if run_info.get("model"):
        model.save(run_info["model"])


def train_word2vec(path: Inputs, config: Word2VecConfig | None = None,
                   progress: Progress | None = None) -> Word2VecModel:
    """Read ``path`` (a path or a list of paths, one corpus), build the vocabulary, train skip-gram or CBOW
    (``config.model``), and return the model with its report."""
    trainer, report = prepare(path, config or Word2VecConfig(), progress)
    trainer.run(progress)
    return finish_report(trainer, report)


def measure_throughput(path: str, configs: list[Word2VecConfig], budget: int = 2_000_000, repeat: int = 2,
                       say=lambda message: None) -> list[list[float]]:
    """Words/sec of one epoch on the first ``budget`` tokens of ``path`` for each of ``configs`` (its corpus
    settings are the first one's), ``repeat`` rounds: result[round][i] is configs[i]'s.

    Runs are interleaved (1, 2, ..., 1, 2, ...), so a busy moment on the machine does not favour one
    config; the corpus is read once.
    """
    from .trainer import plan_chunks

    vocab, corpus = read_corpus(path, configs[0])
    if isinstance(corpus, DiskCorpus):  # read only the chunks the budget needs
        chunk_starts = plan_chunks(corpus.offsets, CHUNK_WORDS)
        needed = int(np.searchsorted(corpus.offsets[chunk_starts], budget, side="left"))
        corpus = corpus.load(0, max(1, min(needed, len(chunk_starts) - 1)), chunk_starts)[0]
    corpus = corpus.head(budget)
    say(f"{corpus.n_tokens:,} tokens of {path}, vocabulary {len(vocab):,}; kernels ready in {warm_up():.2f} s")
    rounds = []
    for _ in range(repeat):
        rates = []
        for config in configs:
            trainer = Trainer(word2vec_job(corpus, vocab, dataclasses.replace(config, epochs=1)))
            trainer.run()
            rates.append(corpus.n_tokens / trainer.train_seconds)
        rounds.append(rates)
    return rounds
