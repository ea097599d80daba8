"""The one trainer: runs any objective's epochs through the epoch kernel, pauses, checkpoints and resumes.

An objective hands the trainer a :class:`Job` (its encoded data, dictionary, samplers
and kernel settings; see ``word2vec.py`` and ``supervised.py``). The trainer owns
the tables and the position in the schedule (epoch, segment, next chunk), runs the
kernel in a worker thread so that the main thread can report progress and catch
Ctrl-C, and stops only at chunk boundaries, where the state can be saved and a
resumed ``--threads 1`` run continues bit for bit.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np

from ..kernels.rows import STRIDE
from ..base.errors import FastembError
from ..base.progress import Progress
from ..base.signals import check, held, stop_requests


@dataclass
class Job:
    """What an objective gives the trainer."""

    objective: str                 # "skipgram", "cbow" or "supervised"
    config: object                 # config.Word2VecConfig or config.SupervisedConfig
    vocab: object                  # vocab.Vocab of the input words (saved in checkpoints)
    data: object                   # Corpus, DiskCorpus or labelled.Examples: offsets, tokens, segment_bounds, load
    chunk_offsets: np.ndarray      # int64 words before each unit, or a text/offsets.Offsets: chunks are planned on them
    chunk_words: int               # words per chunk (one random stream, one unit of stopping)
    input_rows: np.ndarray         # float32 initial tables (used in place when no hot rows are needed)
    output_rows: np.ndarray
    samplers: tuple                # see kernels.epoch.train_chunks
    settings: dict                 # kernels.epoch.Settings fields the objective decides
    hot_candidates: tuple = (0, 0)  # rows of each table that may get per-thread copies (the lowest ids: hottest)
    slow: tuple = (0, 1.0)         # (rows, scale): each table's lowest ids learn at scale x the rate (rounds.slow_rows)
    labels: object = None          # vocab.Vocab of the labels (the classifier)
    frozen: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint8))
    subwords: tuple = (np.zeros(0, np.int32), np.zeros(1, np.int64))  # (rows, offsets) of each word's input rows

    @property
    def words_per_epoch(self) -> float:
        return float(self.chunk_offsets[-1])


def plan_chunks(offsets: np.ndarray, chunk_words: int) -> np.ndarray:
    """Unit indices that split the data into runs of about ``chunk_words`` words (``offsets``: words before
    each unit, an int64 array or a text/offsets.Offsets)."""
    n_units = len(offsets) - 1
    wanted = np.arange(0, int(offsets[-1]), chunk_words, dtype=np.int64)
    starts = np.unique(offsets.searchsorted(wanted, side="left"))  # every wanted count is below offsets[-1]
    return np.concatenate((starts[starts < n_units], [n_units])).astype(np.int64)


def new_state(threads: int):
    """Per-thread slots (words done this epoch, loss sum and pairs scored), the stop flag, the next chunk."""
    return (np.zeros(threads * STRIDE, np.int64), np.zeros(threads * STRIDE, np.float64),
            np.zeros(1, np.int64), np.zeros(STRIDE, np.int64))


def _store(rows: np.ndarray, private: int) -> np.ndarray:
    """The array the kernel trains: ``private`` rows for the threads' hot-row copies, then the model's rows.
    The given rows are used in place when no copy is needed: when there are no private rows, or when they
    came from models/tables.rows_after with room for exactly ``private`` rows."""
    if rows.dtype == np.float32 and rows.flags.c_contiguous:
        if private == 0:
            return rows
        base = rows.base
        if (isinstance(base, np.ndarray) and base.dtype == np.float32 and base.flags.c_contiguous
                and base.shape == (private + rows.shape[0], rows.shape[1])
                and base[private:].ctypes.data == rows.ctypes.data):
            base[:private] = 0
            return base
    store = np.zeros((private + rows.shape[0], rows.shape[1]), np.float32)
    store[private:] = rows
    return store


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


class Interrupted(Exception):
    """Training stopped at a chunk boundary on request (Ctrl-C, SIGTERM, SIGHUP); the trainer can go on.

    ``signal`` is the KeyboardInterrupt (or subclass, e.g. for SIGTERM) that asked for it.
    """

    def __init__(self, message: str, signal: BaseException | None = None):
        super().__init__(message)
        self.signal = signal


class Trainer:
    """Owns the tables and the position in the schedule; trains, pauses and resumes at chunk bounds."""

    def __init__(self, job: Job):
        from ..kernels.epoch import OBJECTIVES, Settings

        config = job.config
        self.job, self.config, self.data = job, config, job.data
        # Each table is one array: the threads' private copies of its hot rows and their values at
        # the last merge (see kernels/epoch.py), then the model's rows.
        slow_rows, slow_scale = job.slow
        # Private copies are of the hottest rows; with slow rows, of slow rows only, so that a store row is
        # slow exactly when it lies below the table's shared rows plus slow_rows.
        self.hot_in, self.hot_out = (min(config.hot(n), slow_rows) if slow_rows else config.hot(n)
                                     for n in job.hot_candidates)
        self.input_store = _store(job.input_rows, 2 * self.hot_in * config.threads)
        self.output_store = _store(job.output_rows, 2 * self.hot_out * config.threads)
        self.input_rows = self.input_store[2 * self.hot_in * config.threads:]
        self.output_rows = self.output_store[2 * self.hot_out * config.threads:]
        self.frozen = job.frozen if len(job.frozen) else np.zeros(len(self.input_rows), np.uint8)
        self.settings = Settings(**{name: 0 for name in Settings._fields}) \
            ._replace(objective=OBJECTIVES[job.objective], threads=config.threads, seed=config.seed,
                      hot_in=self.hot_in, hot_out=self.hot_out, **job.settings,
                      slow_in=2 * self.hot_in * config.threads + slow_rows if slow_rows else 0,
                      slow_out=2 * self.hot_out * config.threads + slow_rows if slow_rows else 0,
                      slow_scale=float(slow_scale))
        self.chunk_starts = plan_chunks(job.chunk_offsets, job.chunk_words)
        self.segments = self.data.segment_bounds(self.chunk_starts)  # one, unless the data is on disk
        self.segment = 0
        self.loaded = None  # (segment index, in-memory data, local chunk starts)
        self.per_epoch = job.words_per_epoch
        self.total = self.per_epoch * config.epochs
        self.epoch = 0
        self.state = new_state(config.threads)
        self.loss_sum = 0.0  # of finished epochs
        self.scored = 0.0
        self.epoch_losses: list[list[float]] = []  # [loss sum, pairs scored] of each finished epoch
        self.on_epoch = None  # called with (epochs done, that epoch's mean loss) as each epoch ends
        self.train_seconds = 0.0

    def restore(self, saved: dict) -> None:
        """Continue from a checkpoint's state (see checkpoint.load_checkpoint)."""
        meta = saved["meta"]
        self.input_rows[...] = saved["input_rows"]
        self.output_rows[...] = saved["output_rows"]
        self.epoch = int(meta["epoch"])
        self.segment = int(meta.get("segment", 0))
        if self.segment >= len(self.segments):
            raise FastembError(f"checkpoint position (segment {self.segment}) does not fit this data's layout")
        self.loss_sum, self.scored = float(meta["loss_sum"]), float(meta["scored"])
        # the epochs before the checkpoint's position (a checkpoint moved back keeps none of later ones)
        self.epoch_losses = [[float(loss), float(scored)]
                             for loss, scored in meta.get("epoch_losses", [])][:self.epoch]
        self.train_seconds = float(meta["train_seconds"])
        for mine, theirs in zip(self.state, (saved["progress"], saved["losses"], None, saved["next_chunk"])):
            if theirs is not None:
                mine[...] = theirs

    @property
    def finished(self) -> bool:
        return self.epoch >= self.config.epochs

    def words_done(self) -> float:
        return self.epoch * self.per_epoch + float(self.state[0][::STRIDE].sum())

    def mean_loss(self) -> float:
        losses = self.state[1]
        scored = self.scored + losses[1::STRIDE].sum()
        return float((self.loss_sum + losses[::STRIDE].sum()) / scored) if scored else 0.0

    def current_lr(self) -> float:
        """The rate of the schedule at the words done so far (the kernel's, up to rounding; exact at the end)."""
        config = self.config
        return config.min_lr + (config.lr - config.min_lr) * max(0.0, 1.0 - self.words_done() / max(self.total, 1.0))

    def describe_position(self) -> str:
        return (f"epoch {min(self.epoch + 1, self.config.epochs)} of {self.config.epochs}, "
                f"{100 * self.words_done() / max(self.total, 1.0):.1f}% of all words done")

    def run(self, progress: Progress | None = None, pause_every: float | None = None, on_pause=None) -> None:
        """Train to the end. Every ``pause_every`` seconds, pause at chunk bounds and call ``on_pause()``.

        Ctrl-C (KeyboardInterrupt) stops the threads at their next chunk boundary, within
        about a second, and raises :class:`Interrupted` with the trainer in a resumable state.
        """
        with stop_requests():  # a burst of signals is one request (base/signals.py), in the API as in the CLI
            self._train_to_end(progress or Progress(self.total, self.config.threads, quiet=True), pause_every, on_pause)

    def _train_to_end(self, progress: Progress, pause_every: float | None, on_pause) -> None:
        self._use_threads()
        progress.begin(self.words_done())
        last_pause = time.perf_counter()

        def poll():
            nonlocal last_pause
            check()  # a request held while the last checkpoint failed to write
            progress.update(self.words_done(), self.current_lr(), self.mean_loss())
            if pause_every is not None and time.perf_counter() - last_pause >= pause_every:
                self.state[2][0] = 1
                last_pause = time.perf_counter()

        while not self.finished:
            try:
                self._train_segment(poll)
                with held():  # the bookkeeping below is never cut in half by a signal
                    paused = self.state[2][0] != 0
                    self.state[2][0] = 0
                    if not paused:
                        self._advance(progress)
                    # A segment shorter than a poll (a small epoch) ends before poll() can ask for a pause:
                    # its end is a chunk boundary too.
                    due = pause_every is not None and time.perf_counter() - last_pause >= pause_every
                    if paused or due:
                        if on_pause is not None and not self.finished:
                            on_pause()
                        last_pause = time.perf_counter()
            except KeyboardInterrupt as request:
                self.state[2][0] = 0
                progress.close()
                raise Interrupted(self.describe_position(), request) from None
        progress.close()

    def _use_threads(self) -> None:
        import numba
        numba.set_num_threads(max(1, min(self.config.threads, numba.config.NUMBA_NUM_THREADS)))

    def train_span(self, epoch: int, first: int, last: int, words_before: float, total_words: float) -> tuple:
        """Train chunks [first, last) of epoch ``epoch`` (numbered over the whole data, as the random streams
        are) with the rate of a schedule that stands at ``words_before`` of ``total_words`` as the span
        starts: a worker's share of a distributed round (see cluster/worker.py). Returns (words, loss sum,
        pairs scored) of the span."""
        from ..kernels.epoch import Schedule
        self._use_threads()
        self.epoch = epoch
        words = loss = scored = 0.0
        for index, (segment_first, segment_last) in enumerate(self.segments):
            if segment_last <= first or segment_first >= last:
                continue
            self.segment = index
            self.state = new_state(self.config.threads)
            self.state[3][0] = max(first, segment_first) - segment_first
            schedule = Schedule(float(self.config.lr), float(self.config.min_lr), float(words_before + words),
                                float(total_words))
            self._train_segment(lambda: None, min(last, segment_last) - segment_first, schedule)
            progress, losses = self.state[0], self.state[1]
            words += float(progress[::STRIDE].sum())
            loss += float(losses[::STRIDE].sum())
            scored += float(losses[1::STRIDE].sum())
        return words, loss, scored

    def _segment_data(self):
        if self.loaded is None or self.loaded[0] != self.segment:
            self.loaded = None  # free the previous segment before reading the next
            first, last = self.segments[self.segment]
            self.loaded = (self.segment, *self.data.load(first, last, self.chunk_starts))
        return self.loaded[1], self.loaded[2]

    def kernel_arguments(self, data, chunk_starts, schedule=None) -> tuple:
        """The epoch kernel's arguments for the current segment; ``schedule`` (kernels.epoch.Schedule): the
        learning rate's, by default the run's own from the start of the current epoch."""
        from ..kernels.epoch import Schedule
        labels, label_offsets = data.labels, data.label_offsets
        if labels is None:
            labels, label_offsets = np.zeros(0, np.int32), np.zeros(1, np.int64)
        settings = self.settings._replace(epoch=self.epoch, first_chunk=self.segments[self.segment][0])
        if schedule is None:
            schedule = Schedule(float(self.config.lr), float(self.config.min_lr), self.epoch * self.per_epoch,
                                float(self.total))
        return ((self.input_store, self.output_store, self.frozen, *self.job.subwords),
                (data.tokens, data.offsets, labels, label_offsets, chunk_starts),
                self.job.samplers, settings, schedule, self.state)

    def _train_segment(self, poll, last_chunk: int | None = None, schedule=None) -> None:
        """One kernel call over the current segment (up to its chunk ``last_chunk``, local to the segment, when
        given); its arrays are freed on return, before the next is read."""
        from ..kernels.epoch import train_chunks
        data, chunk_starts = self._segment_data()
        if last_chunk is not None:
            chunk_starts = chunk_starts[:last_chunk + 1]
        started = time.perf_counter()
        arguments = self.kernel_arguments(data, chunk_starts, schedule)
        if threading.current_thread() is not threading.main_thread():
            # A cluster worker's task: no Ctrl-C to catch, so no thread of its own. (A thread started and ended
            # per span can deadlock CPython 3.11 against Dask's profiler, seen in a worker: sys._current_frames
            # holds the runtime's lock while a GC callback gives up the GIL to the ending thread.)
            try:
                train_chunks(*arguments)
            finally:
                self._end_segment(started, chunk_starts)
            return
        runner = _KernelRunner(train_chunks, arguments).start()
        try:
            runner.wait(poll)
        finally:  # on Ctrl-C the threads first reach a chunk boundary: the state stays whole
            runner.stop_and_wait(self.state[2])
            self._end_segment(started, chunk_starts)

    def _end_segment(self, started: float, chunk_starts: np.ndarray) -> None:
        self.train_seconds += time.perf_counter() - started
        next_chunk = self.state[3]
        next_chunk[0] = min(next_chunk[0], len(chunk_starts) - 1)  # the threads' last claims overshoot

    def _advance(self, progress: Progress) -> None:
        """After a segment's chunks are all done: the next segment, or the next epoch."""
        if self.segment + 1 < len(self.segments):  # same epoch, next stretch of the data
            self.segment += 1
            self.state[3][...] = 0
            return
        progress.update(self.words_done(), self.current_lr(), self.mean_loss(), force=True)
        losses = self.state[1]
        # Each thread sums its own losses in float64 and they are added here, after the kernel returns: no race.
        epoch_loss, epoch_scored = losses[::STRIDE].sum(), losses[1::STRIDE].sum()
        self.loss_sum += epoch_loss
        self.scored += epoch_scored
        self.epoch_losses.append([float(epoch_loss), float(epoch_scored)])
        self.epoch += 1
        self.segment = 0
        self.state = new_state(self.config.threads)
        if self.on_epoch is not None:
            self.on_epoch(self.epoch, float(epoch_loss / epoch_scored) if epoch_scored else 0.0)

    def stats(self) -> dict:
        return {"train_seconds": self.train_seconds, "words": int(self.total), "loss": self.mean_loss_final(),
                "epoch_losses": [loss / scored if scored else 0.0 for loss, scored in self.epoch_losses],
                "loss_sum": float(self.loss_sum), "scored": float(self.scored),
                "words_per_sec": self.total / self.train_seconds if self.train_seconds else 0.0,
                "hot_rows": [self.hot_in, self.hot_out]}

    def mean_loss_final(self) -> float:
        return float(self.loss_sum / self.scored) if self.scored else self.mean_loss()
