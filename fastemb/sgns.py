"""Skip-gram training: plans the work, runs the kernel in a worker thread, reports progress.

Data flows one way: file -> corpus.scan -> Vocab -> corpus.encode -> kernel -> vectors.
"""
from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import threading
import time
import zipfile
from dataclasses import asdict, dataclass, field

import numpy as np

from . import __version__
from .corpus import MAX_SENTENCE, MAX_TOKEN_BYTES, Corpus, DiskCorpus, encode, scan
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
    on_disk: bool = False     # keep the encoded corpus in a file, trained a segment at a time
    init: str | None = None   # continue from these vectors (word2vec file) or a checkpoint
    max_memory: float = 64.0  # MB of token ids kept in memory; a larger corpus is trained from disk
    max_words: int | None = 10_000_000  # distinct words counted before rare ones are pruned (ReduceVocab)
    hot_rows: int | None = None  # threads > 1: words whose rows each thread keeps a private copy of (None: auto)

    def memory_budget(self) -> float:
        if self.on_disk:
            return 0.0
        if self.max_memory < 0:
            raise FastembError(f"--max-memory must be >= 0 MB, got {self.max_memory}")
        # Past ~16 M tokens the ids would be the largest thing in memory, and training from disk a
        # segment at a time costs nothing measurable (with one thread: the very same vectors).
        return self.max_memory * 2**20

    def validate(self) -> None:
        from .sgns_kernel import KERNELS
        for name in ("dim", "window", "negative", "epochs", "threads", "min_count"):
            if getattr(self, name) <= 0:
                raise FastembError(f"--{name.replace('_', '-')} must be a positive integer, got {getattr(self, name)}")
        if self.max_vocab is not None and self.max_vocab <= 0:
            raise FastembError(f"--max-vocab must be a positive integer, got {self.max_vocab}")
        if self.max_words is not None and self.max_words <= 0:
            raise FastembError(f"--max-words must be a positive integer, got {self.max_words}")
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
        if self.hot_rows is not None and self.hot_rows < 0:
            raise FastembError(f"--hot-rows must be >= 0, got {self.hot_rows}")

    def hot_words(self, n_words: int) -> int:
        """How many of the most frequent words get per-thread private rows (see sgns_kernel): none with
        one thread; by default 1,024, fewer if the copies (and their merge bases) would cost more than
        a quarter of the model."""
        if self.threads == 1:
            return 0
        if self.hot_rows is not None:
            return min(self.hot_rows, n_words)
        return min(1024, n_words // (8 * self.threads))


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


def read_corpus(path: str, config: SkipGramConfig, vocab: Vocab | None = None,
                workdir: str | None = None) -> tuple[Vocab, Corpus | DiskCorpus]:
    """Scan, count and encode ``path``; over the memory budget the tokens live in ``workdir``.

    With ``vocab`` given (resuming, continuing), the corpus is encoded with it instead.
    """
    budget = config.memory_budget()
    workdir = workdir or tempfile.gettempdir()
    raw = scan(path, memory_budget=budget, spill_dir=workdir, max_words=config.max_words)
    try:
        if raw.n_tokens == 0:
            raise FastembError(f"{path}: the corpus is empty (no tokens)")
        if vocab is None:
            vocab, remap = Vocab.build(raw.words, raw.counts, config.min_count, config.max_vocab)
        else:
            index = {word: i for i, word in enumerate(vocab.words)}
            remap = np.array([index.get(word, -1) for word in raw.words], dtype=np.int32)
        on_disk = raw.spill is not None or 4 * raw.n_tokens > budget
        cache = os.path.join(workdir, f".fastemb-corpus-{os.getpid()}-{id(raw)}.int32") if on_disk else None
        return vocab, encode(raw, remap, cache)
    finally:
        if raw.spill is not None:
            os.unlink(raw.spill)


class _KernelRunner:
    """Runs a GIL-free kernel in a worker thread so the main thread can report and catch Ctrl-C.

    Completion is signalled with an Event rather than Thread.join: a join interrupted by
    KeyboardInterrupt can leave the Thread reporting itself dead while it still runs.
    """

    def __init__(self, kernel, args):
        self.error = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(kernel, args), daemon=True)

    def _run(self, kernel, args):
        try:
            kernel(*args)
        except BaseException as exc:  # handed to the main thread
            self.error = exc
        finally:
            self.done.set()

    def start(self):
        self.thread.start()
        return self

    def wait(self, poll, interval: float = 0.1):
        while not self.done.wait(interval):
            poll()
        if self.error is not None:
            raise self.error

    def stop_and_wait(self, stop) -> None:
        """Ask the threads to stop at their next chunk boundary and wait for them, deaf to Ctrl-C."""
        if self.done.is_set():
            return
        stop[0] = 1
        while True:
            try:
                self.done.wait()
                return
            except KeyboardInterrupt:
                continue


@contextlib.contextmanager
def _signals_deferred():
    """Hold SIGINT and SIGTERM until the block is done, then deliver them as they would have been.

    Only the main thread can change signal handlers; elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    previous = {signum: signal.signal(signum, lambda signum, frame: received.append(signum))
                for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if received:
            handler = previous[received[0]]
            if callable(handler):
                handler(received[0], None)
            elif handler == signal.SIG_DFL:
                os.kill(os.getpid(), received[0])


class Interrupted(Exception):
    """Training stopped at a chunk boundary on request (Ctrl-C, SIGTERM); the trainer can go on.

    ``signal`` is the KeyboardInterrupt (or subclass, e.g. for SIGTERM) that asked for it.
    """

    def __init__(self, message: str, signal: BaseException | None = None):
        super().__init__(message)
        self.signal = signal


def new_state(threads: int):
    """Per-thread slots (words done this epoch, loss sum and pairs scored), the stop flag, the next chunk."""
    from .sgns_kernel import STRIDE
    return (np.zeros(threads * STRIDE, np.int64), np.zeros(threads * STRIDE, np.float64),
            np.zeros(1, np.int64), np.zeros(STRIDE, np.int64))


def _kernel_inputs(input_store, output_store, corpus, chunk_starts, samplers, config, epoch, words_before, total,
                   state, first_chunk_id=0, hot=0):
    from .sgns_kernel import KERNELS
    return ((input_store, output_store), (corpus.tokens, corpus.offsets, chunk_starts), samplers,
            np.array([config.window, config.negative, KERNELS[config.kernel], config.threads, config.seed, epoch,
                      first_chunk_id, hot], dtype=np.int64),
            np.array([config.lr, config.min_lr, words_before, total], dtype=np.float64), state)


def warm_up(dim: int = 8) -> float:
    """Compile (or load from Numba's cache) the kernels on a tiny input; returns seconds spent."""
    from .core import make_tables
    from .sampling import alias_table, keep_thresholds, noise_distribution
    from .sgns_kernel import train_chunks
    started = time.perf_counter()
    counts = np.array([3, 2, 1], dtype=np.int64)
    corpus = Corpus(np.array([0, 1, 2, 0, 1, 0], dtype=np.int32), np.array([0, 6], dtype=np.int64))
    samplers = (keep_thresholds(counts, 0.0), *alias_table(noise_distribution(counts)), make_tables())
    config = SkipGramConfig(dim=dim, window=2, negative=1, epochs=1, threads=1)
    rows = np.zeros((3, dim), np.float32)
    for kernel in ("batched", "pair"):
        config.kernel = kernel
        train_chunks(*_kernel_inputs(rows.copy(), rows.copy(), corpus, np.array([0, 1], np.int64), samplers,
                                     config, 0, 0.0, 6.0, new_state(1)))
    return time.perf_counter() - started


def initial_input_rows(n_words: int, config: SkipGramConfig, out: np.ndarray | None = None) -> np.ndarray:
    """uniform(-1/dim, 1/dim), as gensim and fastText; computed in place (no temporary copies of the table).

    word2vec C draws from half that range; the wider start learned more in one epoch of
    en-mix (analogies +0.6 / +0.7 points, MEN +0.008 / +0.006 for the batched / pair kernel).
    """
    rows = np.random.default_rng(config.seed).random((n_words, config.dim), dtype=np.float32, out=out)
    rows -= np.float32(0.5)
    rows *= np.float32(2.0 / config.dim)
    return rows


def _store(rows: np.ndarray | None, private: int, n_words: int, dim: int) -> np.ndarray:
    """The array the kernel trains: ``private`` rows for the threads' hot-row copies, then the model's
    rows (``rows`` if given, else zeros). Given rows are used in place when no copy is needed."""
    if rows is not None and private == 0 and rows.dtype == np.float32 and rows.flags.c_contiguous \
            and rows.shape == (n_words, dim):
        return rows
    store = np.zeros((private + n_words, dim), np.float32)
    if rows is not None:
        store[private:] = rows
    return store


class SkipGramTrainer:
    """Owns the matrices and the position in the schedule; trains, pauses and resumes at chunk bounds."""

    def __init__(self, corpus: Corpus, vocab: Vocab, config: SkipGramConfig,
                 input_rows: np.ndarray | None = None, output_rows: np.ndarray | None = None):
        from .core import make_tables
        from .sampling import alias_table, keep_thresholds, noise_distribution

        config.validate()
        self.corpus, self.vocab, self.config = corpus, vocab, config
        # Each matrix is one array: the threads' private copies of the hot rows and their values at
        # the last merge (see sgns_kernel), then the model's rows.
        self.hot = config.hot_words(len(vocab))
        private = 2 * self.hot * config.threads
        self.input_store = _store(input_rows, private, len(vocab), config.dim)
        self.output_store = _store(output_rows, private, len(vocab), config.dim)
        self.input_rows, self.output_rows = self.input_store[private:], self.output_store[private:]
        if input_rows is None:
            initial_input_rows(len(vocab), config, out=self.input_rows)
        self.samplers = (keep_thresholds(vocab.counts, config.sample), *alias_table(noise_distribution(vocab.counts)),
                         make_tables())
        if corpus.n_sentences and np.diff(corpus.offsets).max() > MAX_SENTENCE:  # the kernel's buffer size
            raise FastembError(f"a sentence is longer than {MAX_SENTENCE:,} tokens; split it (corpus.scan does)")
        self.chunk_starts = plan_chunks(corpus.offsets)
        self.segments = corpus.segment_bounds(self.chunk_starts)  # one, unless the corpus is on disk
        self.segment = 0
        self.loaded = None  # (segment index, Corpus, local chunk starts)
        self.per_epoch = float(corpus.n_tokens)
        self.total = self.per_epoch * config.epochs
        self.epoch = 0
        self.state = new_state(config.threads)
        self.loss_sum = 0.0  # of finished epochs
        self.scored = 0.0
        self.train_seconds = 0.0

    def restore(self, saved: dict) -> None:
        """Continue from a checkpoint's state (see checkpoint.load_checkpoint)."""
        meta = saved["meta"]
        self.input_rows[...] = saved["input_rows"]
        self.output_rows[...] = saved["output_rows"]
        self.epoch = int(meta["epoch"])
        self.segment = int(meta.get("segment", 0))
        if self.segment >= len(self.segments):
            raise FastembError(f"checkpoint position (segment {self.segment}) does not fit this corpus layout")
        self.loss_sum, self.scored = float(meta["loss_sum"]), float(meta["scored"])
        self.train_seconds = float(meta["train_seconds"])
        for mine, theirs in zip(self.state, (saved["progress"], saved["losses"], None, saved["next_chunk"])):
            if theirs is not None:
                mine[...] = theirs

    @property
    def finished(self) -> bool:
        return self.epoch >= self.config.epochs

    def words_done(self) -> float:
        from .sgns_kernel import STRIDE
        return self.epoch * self.per_epoch + float(self.state[0][::STRIDE].sum())

    def mean_loss(self) -> float:
        from .sgns_kernel import STRIDE
        losses = self.state[1]
        scored = self.scored + losses[1::STRIDE].sum()
        return float((self.loss_sum + losses[::STRIDE].sum()) / scored) if scored else 0.0

    def current_lr(self) -> float:
        lr_per_word = (self.config.lr - self.config.min_lr) / max(self.total, 1.0)
        return max(self.config.lr - lr_per_word * self.words_done(), self.config.min_lr)

    def _segment_corpus(self):
        if self.loaded is None or self.loaded[0] != self.segment:
            self.loaded = None  # free the previous segment before reading the next
            first, last = self.segments[self.segment]
            self.loaded = (self.segment, *self.corpus.load(first, last, self.chunk_starts))
        return self.loaded[1], self.loaded[2]

    def describe_position(self) -> str:
        return (f"epoch {min(self.epoch + 1, self.config.epochs)} of {self.config.epochs}, "
                f"{100 * self.words_done() / max(self.total, 1.0):.1f}% of all words done")

    def run(self, progress: Progress | None = None, pause_every: float | None = None, on_pause=None) -> None:
        """Train to the end. Every ``pause_every`` seconds, pause at chunk bounds and call ``on_pause()``.

        Ctrl-C (KeyboardInterrupt) stops the threads at their next chunk boundary, within
        about a second, and raises :class:`Interrupted` with the trainer in a resumable state.
        """
        import numba

        from .sgns_kernel import STRIDE, train_chunks

        numba.set_num_threads(max(1, min(self.config.threads, numba.config.NUMBA_NUM_THREADS)))
        progress = progress or Progress(self.total, self.config.threads, quiet=True)
        progress.begin(self.words_done())
        last_pause = time.perf_counter()

        def poll():
            nonlocal last_pause
            progress.update(self.words_done(), self.current_lr(), self.mean_loss())
            if pause_every is not None and time.perf_counter() - last_pause >= pause_every:
                self.state[2][0] = 1
                last_pause = time.perf_counter()

        while not self.finished:
            try:
                self._train_segment(train_chunks, poll)
                with _signals_deferred():  # the bookkeeping below is never cut in half by a signal
                    paused = self.state[2][0] != 0
                    self.state[2][0] = 0
                    if paused:
                        if on_pause is not None:
                            on_pause()
                        last_pause = time.perf_counter()
                    else:
                        self._advance(progress)
            except KeyboardInterrupt as request:
                self.state[2][0] = 0
                progress.close()
                raise Interrupted(self.describe_position(), request) from None
        progress.close()

    def _train_segment(self, train_chunks, poll) -> None:
        """One kernel call over the current segment; its arrays are freed on return, before the next is read."""
        corpus, chunk_starts = self._segment_corpus()
        args = _kernel_inputs(self.input_store, self.output_store, corpus, chunk_starts, self.samplers,
                              self.config, self.epoch, self.epoch * self.per_epoch, self.total, self.state,
                              self.segments[self.segment][0], self.hot)
        started = time.perf_counter()
        runner = _KernelRunner(train_chunks, args).start()
        try:
            runner.wait(poll)
        finally:  # on Ctrl-C the threads first reach a chunk boundary: the state stays whole
            runner.stop_and_wait(self.state[2])
            self.train_seconds += time.perf_counter() - started
            next_chunk = self.state[3]
            next_chunk[0] = min(next_chunk[0], len(chunk_starts) - 1)  # the threads' last claims overshoot

    def _advance(self, progress: Progress) -> None:
        """After a segment's chunks are all done: the next segment, or the next epoch."""
        from .sgns_kernel import STRIDE
        if self.segment + 1 < len(self.segments):  # same epoch, next stretch of the corpus
            self.segment += 1
            self.state[3][...] = new_state(self.config.threads)[3]
            return
        progress.update(self.words_done(), self.current_lr(), self.mean_loss(), force=True)
        losses = self.state[1]
        self.loss_sum += losses[::STRIDE].sum()
        self.scored += losses[1::STRIDE].sum()
        self.epoch += 1
        self.segment = 0
        self.state = new_state(self.config.threads)

    def stats(self) -> dict:
        return {"train_seconds": self.train_seconds, "words": int(self.total), "loss": self.mean_loss_final(),
                "words_per_sec": self.total / self.train_seconds if self.train_seconds else 0.0}

    def mean_loss_final(self) -> float:
        return float(self.loss_sum / self.scored) if self.scored else self.mean_loss()


def train(corpus: Corpus, vocab: Vocab, config: SkipGramConfig, progress: Progress | None = None) -> tuple:
    """Train input and output rows on an encoded corpus; returns (input_rows, output_rows, stats)."""
    trainer = SkipGramTrainer(corpus, vocab, config)
    trainer.run(progress)
    return trainer.input_rows, trainer.output_rows, trainer.stats()


def prepare_skipgram(path: str, config: SkipGramConfig, progress: Progress | None = None,
                     vocab: Vocab | None = None, workdir: str | None = None,
                     segment_tokens: int | None = None) -> tuple[SkipGramTrainer, dict]:
    """Read ``path``, build (or apply the given) vocabulary, compile; returns the trainer and report.

    With ``vocab`` given (resuming a checkpoint), the corpus is encoded with that
    vocabulary instead of building one.
    """
    config.validate()
    say = progress.say if progress else (lambda message: None)
    resuming = vocab is not None
    started = time.perf_counter()
    vocab, corpus = read_corpus(path, config, vocab, workdir)
    if segment_tokens and isinstance(corpus, DiskCorpus):
        corpus.segment_tokens = int(segment_tokens)
    read_seconds = time.perf_counter() - started
    say(f"Read {corpus.n_tokens:,} tokens in {corpus.n_sentences:,} sentences; "
        f"vocabulary {len(vocab):,} words (min-count {config.min_count}) in {read_seconds:.1f} s")
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
    trainer = SkipGramTrainer(corpus, vocab, config, input_rows, output_rows)
    if progress is not None:
        progress.total_words = trainer.total
        progress.threads = config.threads
        progress.started = time.perf_counter()
    report = {"version": __version__, "objective": "skipgram", "input": path,
              "read_seconds": read_seconds, "compile_seconds": compile_seconds,
              "save_seconds": 0.0, "threads": config.threads, "vocab_size": len(vocab),
              "corpus_tokens": corpus.n_tokens, "sentences": corpus.n_sentences,
              "corpus_on_disk": isinstance(corpus, DiskCorpus), "truncated_tokens": corpus.truncated,
              "count_prunes": corpus.pruned[0], "count_prune_threshold": corpus.pruned[1],
              "config": asdict(config)}
    return trainer, report


def initial_rows(vocab: Vocab, config: SkipGramConfig) -> tuple[Vocab, np.ndarray, np.ndarray, int]:
    """Merge the vocabulary of ``config.init`` into ``vocab`` and start from its rows.

    ``init`` is a word2vec text/binary file (input rows only) or a fastemb checkpoint
    (input and output rows). Its words missing from the corpus are kept (count 0: never
    drawn as noise, never trained) so the output still has them; new words start as usual.
    """
    from .checkpoint import load_checkpoint
    from .vectors import load_vectors

    if zipfile.is_zipfile(config.init):  # a checkpoint (an .npz); its errors are the ones to show
        saved = load_checkpoint(config.init)
        words, inputs, outputs = saved["words"], saved["input_rows"], saved["output_rows"]
    else:
        loaded = load_vectors(config.init)
        words, inputs, outputs = loaded.words, loaded.matrix, None
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
    output_rows = np.zeros_like(input_rows)
    if outputs is not None:
        output_rows[rows] = outputs
    return merged, input_rows, output_rows, len(words) - len(extra)


def finish_report(trainer: SkipGramTrainer, report: dict) -> SkipGramModel:
    report.update(trainer.stats())
    return SkipGramModel(trainer.vocab, trainer.input_rows, trainer.output_rows, trainer.config, report)


def train_skipgram(path: str, config: SkipGramConfig | None = None, progress: Progress | None = None) -> SkipGramModel:
    """Read ``path``, build the vocabulary, train, and return the model with its report."""
    trainer, report = prepare_skipgram(path, config or SkipGramConfig(), progress)
    trainer.run(progress)
    return finish_report(trainer, report)


def run_to_file(trainer: SkipGramTrainer, report: dict, output: str, binary: bool = False,
                checkpoint: str | None = None, checkpoint_every: float = 600.0, save_on_interrupt: bool = False,
                progress: Progress | None = None, run_info: dict | None = None) -> SkipGramModel:
    """Train to the end with optional periodic checkpoints, then save the vectors to ``output``.

    On Ctrl-C or SIGTERM the threads stop at their next chunk boundary; the checkpoint
    (if any) is written, and the vectors too with ``save_on_interrupt``; then
    :class:`Interrupted` says where things are and how to go on.
    """
    from .checkpoint import corpus_checksum, save_checkpoint

    run_info = dict(run_info or {})
    if checkpoint:
        # The segment layout is part of the position: a resume must cut the corpus the same way.
        on_disk = isinstance(trainer.corpus, DiskCorpus)
        run_info.update(checkpoint=os.path.abspath(checkpoint), checkpoint_every=checkpoint_every,
                        corpus_on_disk=on_disk, segment_tokens=trainer.corpus.segment_tokens if on_disk else None)
        run_info.setdefault("corpus_checksum", corpus_checksum(trainer.corpus))

    def save_state():
        save_checkpoint(checkpoint, trainer, run_info)

    def save_state_or_warn():
        try:
            save_state()
        except FastembError as exc:  # a failed periodic checkpoint must not end a long run
            if progress is not None:
                progress.say(f"\nWarning: checkpoint not written ({exc}); training goes on")

    try:
        trainer.run(progress, pause_every=checkpoint_every if checkpoint else None,
                    on_pause=save_state_or_warn if checkpoint else None)
    except Interrupted as stopped:
        notes = [f"Interrupted during {stopped}."]
        if checkpoint:
            save_state()
            notes.append(f"Checkpoint saved to {checkpoint}; continue with: fastemb resume {checkpoint}")
        if save_on_interrupt:
            finish_report(trainer, report).save(output, binary=binary)
            notes.append(f"Vectors trained so far saved to {output}.")
        else:
            notes.append(f"{output} was not written (an existing file is unchanged).")
        raise Interrupted(" ".join(notes), stopped.signal) from None
    if checkpoint:  # finished state first: if saving the vectors fails, `resume` only has to save them
        save_state()
    model = finish_report(trainer, report)
    model.save(output, binary=binary)
    return model


def resume_skipgram(checkpoint: str, progress: Progress | None = None) -> tuple[SkipGramModel, dict]:
    """Continue the run saved in ``checkpoint``; writes the original command's output file.

    Returns the model and the original command's run description (output, report, ...).
    """
    from .checkpoint import corpus_checksum, load_checkpoint

    saved = load_checkpoint(checkpoint, resuming=True)
    meta, run_info = saved["meta"], saved["meta"]["run"]
    config = SkipGramConfig(**meta["config"])
    if run_info.get("corpus_on_disk"):  # the same layout as when the checkpoint was written
        config.on_disk = True
    else:
        config.on_disk, config.max_memory = False, float("inf")
    vocab = Vocab(saved["words"], saved["counts"])
    trainer, report = prepare_skipgram(run_info["input"], config, progress, vocab=vocab,
                                       workdir=os.path.dirname(run_info["output"]),
                                       segment_tokens=run_info.get("segment_tokens"))
    if corpus_checksum(trainer.corpus) != run_info["corpus_checksum"]:
        raise FastembError(f"{checkpoint}: the corpus {run_info['input']} has changed since the checkpoint was "
                           "written (checksum differs); resuming would train on different data")
    trainer.restore(saved)
    if progress is not None:
        progress.say(f"Resuming at {trainer.describe_position()}")
    report["resumed_from"] = os.path.abspath(checkpoint)
    model = run_to_file(trainer, report, run_info["output"], binary=run_info.get("binary", False),
                        checkpoint=checkpoint, checkpoint_every=run_info.get("checkpoint_every", 600.0),
                        save_on_interrupt=run_info.get("save_on_interrupt", False), progress=progress,
                        run_info=run_info)
    return model, run_info


def measure_throughput(path: str, config: SkipGramConfig, thread_counts: list[int], budget: int = 2_000_000,
                       repeat: int = 2, say=lambda message: None) -> list[dict]:
    """Words/sec of one epoch on the first ``budget`` tokens of ``path``, per thread count.

    Runs are interleaved (1, 2, ..., 1, 2, ...) and the median is kept, so a busy
    moment on the machine does not favour one thread count.
    """
    import statistics

    vocab, corpus = read_corpus(path, config)
    if isinstance(corpus, DiskCorpus):  # read only the chunks the budget needs
        chunk_starts = plan_chunks(corpus.offsets)
        needed = int(np.searchsorted(corpus.offsets[chunk_starts], budget, side="left"))
        corpus = corpus.load(0, max(1, min(needed, len(chunk_starts) - 1)), chunk_starts)[0]
    corpus = corpus.head(budget)
    say(f"{corpus.n_tokens:,} tokens of {path}, vocabulary {len(vocab):,}; kernels ready in {warm_up():.2f} s")
    rates: dict[int, list[float]] = {n: [] for n in thread_counts}
    for _ in range(repeat):
        for threads in thread_counts:
            run_config = SkipGramConfig(**{**asdict(config), "threads": threads, "epochs": 1})
            trainer = SkipGramTrainer(corpus, vocab, run_config)
            trainer.run()
            rates[threads].append(corpus.n_tokens / trainer.train_seconds)
    base = statistics.median(rates[thread_counts[0]]) / thread_counts[0]
    return [{"threads": n, "words_per_sec": statistics.median(r), "per_thread": statistics.median(r) / n,
             "min": min(r), "max": max(r), "speedup": statistics.median(r) / base / thread_counts[0]}
            for n, r in rates.items()]
