"""The tasks a Dask worker runs for a distributed run (cluster/driver.py submits them).

Each task is a pure function of its arguments: a round's result depends only on the global model it
starts from, the shard, the chunks and the learning-rate range it is given, and the seed. What a worker
keeps between tasks (its shard encoded in its own scratch directory, a replica of the model) is a cache:
a task that finds it missing or out of date rebuilds it from the shard's pieces or asks for the whole
model, so a task rerun on another worker (the first one died) returns what the first would have.

The replica is brought up to the global model by a :class:`ModelMessage`: the rows that changed in the
last round, as their new values, or the whole model when the worker does not have the previous
version. A round trains the replica in place with the one trainer (its threads included), and returns
only the rows that changed and by how much (:class:`RoundResult`); the replica's rows are then put back,
so that every shard trained on this worker starts from the same global model.
"""
from __future__ import annotations

import tempfile
import threading
import time
from dataclasses import dataclass, field, replace

import numpy as np

from .shards import shards_of
from .sharding import Piece, WordCounts


@dataclass
class ShardInfo:
    """What the driver learns about an encoded shard."""

    index: int
    worker: str
    tokens: int              # in-vocabulary tokens: words per epoch
    sentences: int           # sentences (the classifier: examples)
    tokens_read: int         # every token of the shard's lines
    chunk_words: np.ndarray  # int64 words before each of the shard's chunks, then the total
    checksum: str            # of the encoded shard (checkpoint.corpus_checksum)
    compile_seconds: float
    encode_seconds: float
    details: dict = field(default_factory=dict)  # the objective's own figures (cluster/shards.py)


@dataclass
class ModelMessage:
    """The global model at ``version``: whole (``full``), or the rows that changed since ``version - 1``."""

    version: int
    full: bool
    input_ids: np.ndarray | None  # int32 rows, None when full
    input_rows: np.ndarray        # float32 values of those rows (all rows when full)
    output_ids: np.ndarray | None
    output_rows: np.ndarray

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.input_ids, self.input_rows, self.output_ids, self.output_rows)
                   if a is not None)


@dataclass
class RoundTask:
    """One shard's share of a round: chunks of the shard and the slice of the global schedule they take."""

    run: str
    round: int
    shard: int
    pieces: list[Piece]
    config: object            # config.Word2VecConfig or SupervisedConfig, the shard's seed and rate in it
    spans: list[tuple[int, int, int]]  # (epoch, first chunk, last chunk) in order
    words_before: float       # the schedule (kernels.epoch.Schedule) as this shard sees it: the global one
    total_words: float        # scaled by this shard's share of the round's words
    slow: tuple = (0, 1.0)    # (rows, scale): see rounds.slow_rows


@dataclass
class RoundResult:
    """The rows a shard's round changed and (new - old) for them; or ``need_model``."""

    shard: int
    round: int
    worker: str
    need_model: bool = False
    words: float = 0.0
    loss: float = 0.0
    scored: float = 0.0
    train_seconds: float = 0.0
    apply_seconds: float = 0.0  # bringing the replica to the message's model
    diff_seconds: float = 0.0   # finding the changed rows
    input_ids: np.ndarray | None = None
    input_delta: np.ndarray | None = None
    output_ids: np.ndarray | None = None
    output_delta: np.ndarray | None = None

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.input_ids, self.input_delta, self.output_ids, self.output_delta)
                   if a is not None)


class _Run:
    """A worker's cache for one run: read-but-not-encoded shards, encoded shards (``corpora``: what the objective's
    job trains) with their trainers, the model."""

    def __init__(self):
        self.lock = threading.RLock()  # tasks of a run take turns on a worker: they share the model
        self.raw: dict = {}
        self.corpora: dict = {}
        self.trainers: dict = {}
        self.version = -1
        self.model: tuple[np.ndarray, np.ndarray] | None = None  # the global model at ``version``
        self.buffers: dict = {}  # (table, shard, round parity) -> (ids, delta): see changed_rows

    def buffers_for(self, table: int, shard: int, round_index: int) -> tuple[np.ndarray, np.ndarray]:
        """Where a shard's changed rows of ``table`` are written in a round. Two sets, used in alternate rounds:
        a round's result is read by the driver before the next round starts, so its memory is free again two
        rounds later; fresh arrays every round would cost page faults of the whole result each time."""
        key = (table, shard, round_index % 2)
        model = self.model[table]
        if key not in self.buffers or self.buffers[key][1].shape != model.shape:
            self.buffers[key] = (np.empty(len(model), np.int32), np.empty_like(model))
        return self.buffers[key]


_RUNS: dict[str, _Run] = {}
_RUNS_LOCK = threading.Lock()
_compiled: dict = {}  # objective (cluster/shards.py) -> seconds its kernels took to compile or load, once a process


def _run(run: str) -> _Run:
    with _RUNS_LOCK:
        return _RUNS.setdefault(run, _Run())


def forget_run(run: str) -> None:
    """Drop a run's cache (its encoded shards are scratch files, removed with their corpora)."""
    with _RUNS_LOCK:
        _RUNS.pop(run, None)


def worker_address() -> str:
    try:
        from distributed import get_worker
        return get_worker().address
    except (ImportError, ValueError):
        return "local"


def _scratch_dir() -> str:
    try:
        from distributed import get_worker
        return get_worker().local_directory
    except (ImportError, ValueError):
        return tempfile.gettempdir()


def count_shard(run: str, shard: int, pieces: list[Piece], config) -> WordCounts:
    """Read shard ``shard`` with the objective's reader, keep what was read for encoding, return its word counts."""
    objective = shards_of(config)
    state = _run(run)
    raw = objective.read(pieces, config, _scratch_dir())
    with state.lock:
        state.raw[shard] = raw
    return objective.counts(raw, shard)


def encode_shard(run: str, shard: int, pieces: list[Piece], dictionary, config) -> ShardInfo:
    """Encode shard ``shard`` with the global dictionary (the objective's: cluster/shards.py) into this
    worker's scratch directory, once; the lines are read again if this worker did not count them."""
    objective = shards_of(config)
    state = _run(run)
    started = time.perf_counter()
    with state.lock:
        raw = state.raw.pop(shard, None)
    if raw is None:
        raw = objective.read(pieces, config, _scratch_dir())
    data, fields = objective.encode(raw, dictionary, config, _scratch_dir())
    with state.lock:
        state.corpora[shard] = data
        state.trainers.pop(shard, None)
    if objective not in _compiled:
        from ..kernels.deltas import warm_up as warm_up_rows
        _compiled[objective] = objective.warm_up() + warm_up_rows()
    return ShardInfo(shard, worker_address(), compile_seconds=_compiled[objective],
                     encode_seconds=time.perf_counter() - started, **fields)


def _take(state: _Run, message: ModelMessage) -> bool:
    """Bring the model (and every trainer's replica) to ``message.version``; False when this worker does not
    have the version the message starts from."""
    if state.version == message.version:
        return True
    if message.full:
        state.model = (message.input_rows.copy(), message.output_rows.copy())
        for trainer in state.trainers.values():
            trainer.input_rows[...] = message.input_rows
            trainer.output_rows[...] = message.output_rows
    elif state.version == message.version - 1 and state.model is not None:
        from ..kernels.deltas import set_rows
        for table, ids, rows in ((0, message.input_ids, message.input_rows), (1, message.output_ids,
                                                                              message.output_rows)):
            set_rows(state.model[table], ids, rows)
            for trainer in state.trainers.values():
                set_rows((trainer.input_rows, trainer.output_rows)[table], ids, rows)
    else:
        return False
    state.version = message.version
    return True


def _trainer(state: _Run, task: RoundTask, dictionary):
    """The trainer of the task's shard on this worker: its replica is the model at ``state.version``."""
    from ..training.trainer import Trainer
    trainer = state.trainers.get(task.shard)
    if trainer is None:
        if task.shard not in state.corpora:  # the shard moved here (its worker was lost): read it again
            encode_shard(task.run, task.shard, task.pieces, dictionary, task.config)
        inputs, outputs = state.model
        job = shards_of(task.config).job(state.corpora[task.shard], dictionary, task.config, inputs.copy(),
                                             outputs.copy())
        trainer = Trainer(replace(job, slow=task.slow))
        state.trainers[task.shard] = trainer
    return trainer


def changed_rows(replica: np.ndarray, model: np.ndarray, buffers) -> tuple[np.ndarray, np.ndarray]:
    """(ids of the rows where ``replica`` differs from ``model``, replica - model on them), written to the
    front of ``buffers`` (ids, delta); then the replica's rows are put back to the model's."""
    from ..kernels.deltas import take_changes
    ids, delta = buffers
    n = take_changes(replica, model, ids, delta)
    return ids[:n], delta[:n]


def train_round(task: RoundTask, dictionary, message: ModelMessage) -> RoundResult:
    """Train the task's chunks from the global model ``message`` brings, and return what changed."""
    state = _run(task.run)
    with state.lock:
        started = time.perf_counter()
        if not _take(state, message):
            return RoundResult(task.shard, task.round, worker_address(), need_model=True)
        trainer = _trainer(state, task, dictionary)
        synced = time.perf_counter()
        words = loss = scored = 0.0
        for epoch, first, last in task.spans:
            span = trainer.train_span(epoch, first, last, task.words_before + words, task.total_words)
            words, loss, scored = words + span[0], loss + span[1], scored + span[2]
        trained = time.perf_counter()
        input_ids, input_delta = changed_rows(trainer.input_rows, state.model[0],
                                              state.buffers_for(0, task.shard, task.round))
        output_ids, output_delta = changed_rows(trainer.output_rows, state.model[1],
                                                state.buffers_for(1, task.shard, task.round))
        return RoundResult(task.shard, task.round, worker_address(), False, words, loss, scored, trained - synced,
                           synced - started, time.perf_counter() - trained, input_ids, input_delta, output_ids,
                           output_delta)
