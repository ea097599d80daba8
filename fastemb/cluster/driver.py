"""Skip-gram, CBOW and the classifier on a Dask cluster: the driver of a distributed run (see docs/distributed.md).

:func:`prepare` connects to the cluster (``local:N`` starts N worker processes on this machine), splits
the inputs into one shard per worker (cluster/sharding.py), has every worker count its shard with the objective's
reader, merges the counts by a tree of merges into the dictionary a single process would build (the
vocabulary; the classifier's words and labels), has every worker encode its shard once into its own
scratch directory, and returns a
:class:`ClusterTrainer`. That is the one trainer's interface (run, pause for a checkpoint, stop on
Ctrl-C, restore) over rounds: in each round every worker trains its share of the words (rounds.py) on
its replica of the global model and returns the rows it changed; the driver combines them into the
global model and the next round starts from it. run.py therefore writes, checkpoints and resumes a
distributed run as it does any other. What differs between the objectives is in cluster/shards.py.
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import os
import time
import uuid
from types import SimpleNamespace

import numpy as np

from .. import __version__
from ..base.errors import FastembError
from ..base.fileio import STDIN, input_paths
from ..base.progress import Progress
from ..base.config import COMBINERS
from .rounds import DeltaSum, RoundPlan, rate_scale, shard_seed
from ..base.signals import held, stop_requests
from ..training.trainer import Interrupted, new_state

NEED_DASK = "--cluster needs dask.distributed: pip install 'fastemb[distributed]'"
DEFAULT_ROUND_WORDS = 4_000_000  # per worker and round, at most, up to 2 workers; see docs/distributed.md
ROUND_WORDS_ALL = 2_000_000  # past 2 workers: per round, all workers together, at most
MIN_ROUNDS = 8  # a smaller corpus gets shorter rounds rather than fewer of them
CONNECT_SECONDS = 10
RETRIES = 5  # times a shard's round may be lost or ask for the whole model before the run gives up


def default_round_words(workers: int, most_words: int, chunk_words: int) -> int:
    """Words per worker and round when the user gives none. Past 2 workers the replicas drift apart more in
    a round the more there are, so there the round is ROUND_WORDS_ALL shared out; up to 2 a round's fixed
    costs need the longer round (docs/distributed.md, "Rounds"). At least MIN_ROUNDS rounds of
    ``most_words`` (the largest shard's words, all epochs), at least a chunk."""
    words = DEFAULT_ROUND_WORDS if workers <= 2 else ROUND_WORDS_ALL // workers
    return int(max(chunk_words, min(words, most_words // MIN_ROUNDS)))


def require_dask() -> None:
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise FastembError(NEED_DASK) from None


@dataclasses.dataclass
class Connection:
    """A Dask client; ``address`` is what a resume connects to; ``cluster`` the LocalCluster started here."""

    client: object
    address: str
    cluster: object = None
    owned: bool = True  # False: the caller's Client, left open
    workers: int = 1    # workers to wait for before sharding (local:N: all N)

    def close(self) -> None:
        if not self.owned:
            return
        with contextlib.suppress(Exception):
            self.client.close()
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close()


@contextlib.contextmanager
def _children_ignore_ctrl_c():
    """Start processes that ignore SIGINT (they inherit it): Ctrl-C in a terminal signals the whole process
    group, and the local cluster's workers are the driver's to stop (at a round's end, after the checkpoint),
    not to die with a traceback of their own."""
    import signal
    import threading
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def connect(cluster) -> Connection:
    """``cluster``: ``local:N``, a scheduler address (``tcp://host:8786``) or a ``distributed.Client``."""
    require_dask()
    from distributed import Client, LocalCluster
    if isinstance(cluster, Client):
        return Connection(cluster, cluster.scheduler.address, owned=False)
    text = str(cluster)
    for name in ("distributed", "tornado"):  # a lost worker is the driver's business: no log lines on stderr
        logging.getLogger(name).setLevel(logging.CRITICAL)
    if text.startswith("local:"):
        count = text[len("local:"):]
        if not count.isdigit() or int(count) < 1:
            raise FastembError(f"--cluster {text}: expected local:N with N >= 1 worker processes")
        # ":0": the scheduler's HTTP server on a free port (None still asks for 8787, and warns when it is taken)
        with _children_ignore_ctrl_c():
            local = LocalCluster(n_workers=int(count), threads_per_worker=1, processes=True, dashboard_address=":0",
                                 silence_logs=logging.CRITICAL)
        # Data straight to and from the workers, not through the scheduler: 4-5x faster on this machine.
        return Connection(Client(local, direct_to_workers=True), text, local, workers=int(count))
    if ":" not in text:
        raise FastembError(f"--cluster {text}: expected local:N or a Dask scheduler address such as "
                           "tcp://host:8786")
    try:
        return Connection(Client(text, timeout=CONNECT_SECONDS), text)
    except (OSError, TimeoutError, ValueError) as exc:
        raise FastembError(f"--cluster {text}: cannot reach a Dask scheduler there ({exc})") from None


def _tree_reduce(client, futures, merge):
    """Merge ``futures`` pairwise, level by level, on the workers; the result comes back here."""
    while len(futures) > 1:
        pairs = [client.submit(merge, a, b, pure=False) for a, b in zip(futures[::2], futures[1::2])]
        futures = pairs + futures[len(pairs) * 2:]
    return futures[0].result()


def prepare_on(cluster, round_words: int | None = None, combiner: str = "average", resume: dict | None = None):
    """``prepare`` bound to ``cluster`` and its rounds' settings: what the CLI, the API and a resume hand the run."""
    return functools.partial(prepare, cluster=cluster, round_words=round_words, combiner=combiner, resume=resume)


def resume_prepare(record: dict, cluster=None, checkpoint: str = "the checkpoint"):
    """The prepare of a distributed run going on from a checkpoint's ``record`` (its shards, round size and
    combiner), on ``cluster``, by default on the local workers it recorded (``local:N``).

    A recorded address is never connected to: a checkpoint may come from someone else, and only the
    command line says where this machine connects."""
    if cluster is None:
        cluster = record["cluster"]
        if not cluster.startswith("local:"):
            raise FastembError(f"{checkpoint}: the run went on on the cluster {cluster[:80]}; resume connects to "
                               "no address a checkpoint records: pass --cluster ADDRESS to go on there")
    return prepare_on(cluster, record["round_words"], record["combiner"], resume=record)


def prepare(path, config, progress: Progress | None = None, cluster=None, round_words: int | None = None,
            combiner: str = "average", vocab=None, labels=None, frozen=None, resume: dict | None = None, **_):
    """Connect, shard, count, encode: the distributed counterpart of word2vec.prepare and supervised.prepare.
    ``resume``: a checkpoint's ``distributed`` record (its shards are kept; ``vocab``, ``labels`` and
    ``frozen`` are the checkpoint's)."""
    from .shards import shards_of
    from .worker import count_shard, encode_shard
    from .sharding import Piece, is_url, merge_counts, plan_shards, stream_bytes

    from ..training.families import family_of
    family_of(config).check_memory(config)
    objective = shards_of(config)
    if combiner not in COMBINERS:
        raise FastembError(f"--combiner must be one of {', '.join(COMBINERS)}, got {combiner!r}")
    chunk_words = objective.chunk_words
    if round_words is not None and (not isinstance(round_words, int) or round_words < chunk_words):
        raise FastembError(f"--round-words must be an integer of at least {chunk_words:,} (a chunk), got {round_words}")
    paths = input_paths(path)
    if STDIN in paths:
        raise FastembError("--cluster: the workers read the INPUT files themselves; standard input ('-') "
                           "cannot be shared with them")
    paths = [path if is_url(path) else os.path.abspath(path) for path in paths]  # workers have their own cwd
    say = progress.say if progress else (lambda message: None)
    connection = connect(cluster)
    try:
        client = connection.client
        client.wait_for_workers(connection.workers, timeout=60)
        workers = sorted(client.nthreads())
        say(f"Cluster {connection.address}: {len(workers)} worker(s)")
        started = time.perf_counter()
        if resume is not None:
            shards = [[Piece(**piece) for piece in shard] for shard in resume["shards"]]
        else:
            shards = plan_shards(paths, client.gather(client.map(stream_bytes, paths, pure=False)), len(workers))
        run = uuid.uuid4().hex

        def on_worker(function, shard, *args):
            return client.submit(function, run, shard, shards[shard], *args, workers=[workers[shard % len(workers)]],
                                 allow_other_workers=True, pure=False)

        stats, name = {}, ", ".join(paths)
        if vocab is None:
            counts = _tree_reduce(client, [on_worker(count_shard, k, config) for k in range(len(shards))],
                                  merge_counts)
            stats = counts.stats
            dictionary = objective.dictionary(counts, config, name)
        else:
            dictionary = objective.restored(vocab, labels, frozen)
        dictionary, input_rows, output_rows = objective.initial_model(dictionary, config, say, resume is not None)
        dictionary_future = client.scatter(dictionary, broadcast=True, hash=False)
        infos = client.gather([on_worker(encode_shard, k, dictionary_future, config) for k in range(len(shards))])
        read_figures, data_report = objective.describe(dictionary, infos, stats, config, name)
        from ..kernels.deltas import warm_up as warm_up_rows
        compile_seconds = warm_up_rows()  # the driver's merge kernels, before the first round
        read_seconds = time.perf_counter() - started - compile_seconds
        trainer = ClusterTrainer(connection, run, shards, infos, objective, dictionary, dictionary_future, config,
                                 round_words, combiner, input_rows, output_rows)
    except BaseException:
        connection.close()
        raise
    say(f"{read_figures} on {len(workers)} worker(s) in {read_seconds:.1f} s; {trainer.plan.rounds:,} rounds of "
        f"up to {trainer.round_words:,} words per worker, {combiner} combiner")
    if stats.get("count_prunes"):
        say(f"Warning: a shard passed --max-words {config.max_words:,} distinct words and pruned its counts: "
            "the vocabulary may differ from a single process's")
    if progress is not None:
        progress.total_words, progress.threads, progress.started = trainer.total, config.threads, time.perf_counter()
    report = {"version": __version__, "objective": objective.name(config), "input": path, **data_report,
              "read_seconds": read_seconds,
              "compile_seconds": compile_seconds + max(info.compile_seconds for info in infos),
              "save_seconds": 0.0, "threads": config.threads, "corpus_on_disk": True,
              "config": dataclasses.asdict(config), "workers": len(workers), "distributed": trainer.figures}
    return trainer, report


class ClusterTrainer:
    """trainer.Trainer's interface over a cluster's rounds: run.py trains, checkpoints and resumes it."""

    def __init__(self, connection: Connection, run: str, shards, infos, objective, dictionary, dictionary_future,
                 config, round_words: int, combiner: str, input_rows: np.ndarray, output_rows: np.ndarray):
        from .sharding import ShardedCorpus
        self.connection, self.run_id, self.shards = connection, run, shards
        self.dictionary, self.dictionary_future = dictionary, dictionary_future
        vocab, labels = objective.vocabularies(dictionary)
        self.job = SimpleNamespace(objective=objective.name(config), vocab=vocab, labels=labels)
        self.frozen = objective.frozen(dictionary)  # what a checkpoint of the classifier keeps
        self.data = ShardedCorpus(infos)
        self.active = [info.index for info in infos if info.tokens]
        if round_words is None:
            round_words = default_round_words(len(self.active), config.epochs * max(info.tokens for info in infos),
                                              objective.chunk_words)
        self.config, self.combiner, self.round_words = config, combiner, round_words
        self.plan = RoundPlan([info.chunk_words for info in infos], config.epochs, round_words)
        scale = rate_scale(combiner, len(self.active))
        self.shard_configs = [dataclasses.replace(config, seed=shard_seed(config.seed, k), lr=config.lr * scale,
                                                  min_lr=config.min_lr * scale) for k in range(len(shards))]
        self.slow = objective.slow_rows(dictionary, combiner, len(self.active))
        self.input_rows, self.output_rows = input_rows, output_rows
        self.sums = tuple(DeltaSum(table, combiner, len(self.active), self.slow[0])
                          for table in (self.input_rows, self.output_rows))
        self.total = self.plan.total
        self.round = 0
        self.message = None  # the model at this round's start for workers that have the last one; None: whole
        self.where = {info.index: info.worker for info in infos}
        self.segment, self.state = 0, new_state(config.threads)
        self.loss_sum = self.scored = self.train_seconds = 0.0
        self.worker_rates: dict[str, float] = {}
        self.figures = {"cluster": connection.address, "shards": len(shards), "round_words": round_words,
                        "slow_rows": self.slow[0], "slow_scale": self.slow[1],
                        "divisors": list(self.sums[0].divisors),
                        "rounds": self.plan.rounds, "combiner": combiner, "models_sent": 0, "rounds_done": []}

    # -- what run.py and checkpoint.py read --------------------------------------------------------
    @property
    def finished(self) -> bool:
        return self.round >= self.plan.rounds

    @property
    def epoch(self) -> int:
        return min(int(self.words_done() * self.config.epochs / max(self.total, 1.0)), self.config.epochs)

    def words_done(self) -> float:
        return self.plan.words_before(self.round)

    def current_lr(self) -> float:
        config = self.config
        return config.min_lr + (config.lr - config.min_lr) * max(0.0, 1.0 - self.words_done() / max(self.total, 1.0))

    def mean_loss(self) -> float:
        return self.loss_sum / self.scored if self.scored else 0.0

    def describe_position(self) -> str:
        return (f"round {min(self.round + 1, self.plan.rounds)} of {self.plan.rounds} (epoch "
                f"{min(self.epoch + 1, self.config.epochs)} of {self.config.epochs}), "
                f"{100 * self.words_done() / max(self.total, 1.0):.1f}% of all words done")

    def stats(self) -> dict:
        return {"train_seconds": self.train_seconds, "words": int(self.total), "loss": self.mean_loss(),
                "words_per_sec": self.total / self.train_seconds if self.train_seconds else 0.0, "hot_rows": [0, 0]}

    def checkpoint_fields(self) -> dict:
        """The checkpoint's ``distributed`` record: enough to plan the same rounds again and go on."""
        return {"round": self.round, "rounds": self.plan.rounds, "words_done": self.words_done(),
                "round_words": self.round_words, "combiner": self.combiner, "cluster": self.connection.address,
                "shards": [[piece.to_dict() for piece in shard] for shard in self.shards]}

    def restore(self, saved: dict) -> None:
        record = saved["meta"]["distributed"]
        if record["rounds"] != self.plan.rounds:
            raise FastembError(f"the checkpoint's run had {record['rounds']} rounds, this data makes "
                               f"{self.plan.rounds}: it is not the same run")
        meta = saved["meta"]
        self.input_rows[...] = saved["input_rows"]
        self.output_rows[...] = saved["output_rows"]
        self.round, self.message = int(record["round"]), None
        self.loss_sum, self.scored = float(meta["loss_sum"]), float(meta["scored"])
        self.train_seconds = float(meta["train_seconds"])

    # -- training ----------------------------------------------------------------------------------
    def run(self, progress: Progress | None = None, pause_every: float | None = None, on_pause=None) -> None:
        """Train the remaining rounds. Every ``pause_every`` seconds (at the end of a round) call
        ``on_pause()``. Ctrl-C cancels the round's tasks and raises Interrupted at the last round's end."""
        with stop_requests():  # a burst of signals is one request (base/signals.py)
            self._train_to_end(progress or Progress(self.total, self.config.threads, quiet=True), pause_every, on_pause)

    def _train_to_end(self, progress: Progress, pause_every: float | None, on_pause) -> None:
        progress.begin(self.words_done())
        last_pause = time.perf_counter()
        try:
            while not self.finished:
                try:
                    started = time.perf_counter()
                    results, figures = self._train_round()
                    with held():  # the global model and the position change together, never half
                        self._merge(results, figures, started)
                        if pause_every is not None and time.perf_counter() - last_pause >= pause_every:
                            if on_pause is not None and not self.finished:
                                on_pause()
                            last_pause = time.perf_counter()
                    progress.update_round(self.words_done(), self.current_lr(), self.mean_loss(), self.round,
                                          self.plan.rounds, list(self.worker_rates.values()))
                except KeyboardInterrupt as request:
                    progress.close()
                    raise Interrupted(self.describe_position(), request) from None
        finally:
            self.close()
        progress.close()

    def close(self) -> None:
        from .worker import forget_run
        if self.connection.cluster is None:  # a cluster that outlives the run keeps no scratch of it
            with contextlib.suppress(Exception):
                self.connection.client.run(forget_run, self.run_id)
        self.connection.close()

    def _assign(self) -> list[str]:
        """Live workers; a shard whose worker is gone goes to the least loaded one (which reads it again)."""
        live = sorted(self.connection.client.nthreads())
        if not live:
            raise FastembError(f"the cluster {self.connection.address} has no workers left")
        load = {worker: 0 for worker in live}
        for shard in self.active:
            if self.where.get(shard) in load:
                load[self.where[shard]] += 1
        for shard in self.active:
            worker = self.where.get(shard)
            idle = min(load, key=load.get)
            if worker not in load or (load[worker] > 1 and load[idle] == 0):
                if worker in load:
                    load[worker] -= 1
                self.where[shard] = idle
                load[idle] += 1
        return live

    def _any_worker(self) -> str:
        """A live worker, waiting up to a minute for one (after the scheduler dropped them all, say)."""
        client = self.connection.client
        try:
            client.wait_for_workers(1, timeout=60)
        except TimeoutError:
            raise FastembError(f"the cluster {self.connection.address} has had no workers for a minute") from None
        return sorted(client.nthreads())[0]

    def _dictionary(self):
        """The dictionary's future on the workers, scattered again if the workers that held it were all lost."""
        if self.dictionary_future.status != "finished":
            self.dictionary_future = self.connection.client.scatter(self.dictionary, broadcast=True, hash=False)
        return self.dictionary_future

    def _send_model(self, workers: list[str], broadcast: bool):
        """The model at this round's start, as a Dask future on ``workers``: the rows the last round changed,
        or all of it (``self.message`` None, or ``broadcast`` False: a worker that asked for it)."""
        from .worker import ModelMessage
        message = self.message if broadcast and self.message is not None else \
            ModelMessage(self.round, True, None, self.input_rows, None, self.output_rows)
        if message.full:
            self.figures["models_sent"] += len(workers)
        future = self.connection.client.scatter(message, workers=workers, broadcast=broadcast, hash=False)
        return future, message.nbytes * len(workers)

    def _train_round(self):
        from distributed import as_completed
        from .worker import RoundTask, train_round
        client, r = self.connection.client, self.round
        live = self._assign()
        message, sent = self._send_model(live, broadcast=True)
        figures = {"round": r + 1, "bytes_to_workers": sent, "bytes_from_workers": 0, "models_requested": 0}
        futures, requests = {}, dict.fromkeys(self.active, 0)

        def submit(shard: int, model, worker: str):
            words_before, total = self.plan.schedule(shard, r)
            task = RoundTask(self.run_id, r, shard, self.shards[shard], self.shard_configs[shard],
                             self.plan.spans(shard, r), words_before, total, self.slow)
            future = client.submit(train_round, task, self._dictionary(), model, workers=[worker],
                                   allow_other_workers=True, pure=False)
            futures[future] = shard
            return future

        for shard in self.active:
            if self.plan.shard_words(shard, r) > 0:
                submit(shard, message, self.where[shard])
        results = {}
        try:
            finished = as_completed(list(futures), with_results=True)
            for future, result in finished:
                shard = futures.pop(future)
                # A worker that joined or whose shard moved asks for the whole model; a task the scheduler
                # dropped (its data lost with the workers that held it) comes back cancelled: both run
                # again with the whole model, the task being a pure function of it.
                lost = isinstance(result, BaseException)
                if lost or result.need_model:
                    requests[shard] += 1
                    if requests[shard] > RETRIES:
                        raise FastembError(f"round {r + 1}: shard {shard}'s task was lost or asked for the model "
                                           f"{RETRIES} times; giving up")
                    worker = self._any_worker() if lost else result.worker
                    model, sent = self._send_model([worker], broadcast=False)
                    figures["bytes_to_workers"] += sent
                    figures["models_requested"] += 1
                    finished.add(submit(shard, model, worker))
                    continue
                results[shard] = result
                self.where[shard] = result.worker
        except BaseException as exc:
            client.cancel(list(futures))
            if type(exc).__name__ == "KilledWorker":
                raise FastembError(f"round {r + 1}: a task was lost with every worker that ran it ({exc})") from None
            raise
        return results, figures

    def _merge(self, results: dict, figures: dict, started: float) -> None:
        """Combine the round's changes into the global model (shard by shard, in order: reproducible) and keep
        the rows that changed as the next round's message."""
        from .worker import ModelMessage
        merging = time.perf_counter()
        workers: dict[str, dict] = {}
        for shard in sorted(results):
            result = results[shard]
            self.sums[0].add(result.input_ids, result.input_delta)
            self.sums[1].add(result.output_ids, result.output_delta)
            self.loss_sum += result.loss
            self.scored += result.scored
            figures["bytes_from_workers"] += result.nbytes
            mine = workers.setdefault(result.worker, {"shards": [], "words": 0.0, "train_seconds": 0.0})
            mine["shards"].append(shard)
            mine["words"] += result.words
            mine["train_seconds"] += result.train_seconds
        (input_ids, input_rows), (output_ids, output_rows) = self.sums[0].apply(), self.sums[1].apply()
        self.round += 1
        self.message = ModelMessage(self.round, False, input_ids, input_rows, output_ids, output_rows)
        done = time.perf_counter()
        wall = merging - started
        slowest = max((r.apply_seconds + r.train_seconds + r.diff_seconds for r in results.values()), default=0.0)
        figures.update(words=sum(r.words for r in results.values()), seconds=done - started,
                       compute_seconds=max((r.train_seconds for r in results.values()), default=0.0),
                       apply_seconds=max((r.apply_seconds for r in results.values()), default=0.0),
                       diff_seconds=max((r.diff_seconds for r in results.values()), default=0.0),
                       communicate_seconds=max(wall - slowest, 0.0), merge_seconds=done - merging,
                       rows_changed=[int(len(input_ids)), int(len(output_ids))], workers=workers)
        self.figures["rounds_done"].append(figures)
        self.worker_rates = {worker: mine["words"] / max(wall, 1e-9) for worker, mine in sorted(workers.items())}
        self.train_seconds += done - started
