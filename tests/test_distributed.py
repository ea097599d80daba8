"""Training on a Dask cluster: the vocabulary of a distributed count, rounds with sparse deltas, a killed
worker, checkpoints and resume, and the error lines."""
import gzip
import os
import signal

import numpy as np
import pytest

from fastemb.base.config import Word2VecConfig
from fastemb.cluster.sharding import plan_shards, stream_bytes

from conftest import three_files, ROOT, kill_a_worker_in_round, run_cli, stopped_after_round_4_and_resumed
from test_planted import _accuracy

distributed = pytest.importorskip("distributed")

CORPUS = ROOT / "data" / "corpus.txt.gz"
SETTINGS = dict(dim=50, epochs=5, threads=1, seed=3, round_words=50_000)


def _train(client, path=CORPUS, **options):
    from fastemb import train_unsupervised
    return train_unsupervised(str(path), cluster=client, quiet=True, **{**SETTINGS, **options})


@pytest.fixture(scope="module")
def two_workers(client):
    """The reference run: 2 workers on the planted corpus."""
    return _train(client)


def _split_corpus(directory):
    """data/corpus.txt.gz as three files (gzip, plain, plain without a last newline), with words tied in
    count that first occur in different files, and a spelling of invalid UTF-8 that reads as another word."""
    lines = gzip.decompress(CORPUS.read_bytes()).splitlines(keepends=True)[:12_000]
    parts = [lines[:5000], lines[5000:9000], lines[9000:]]
    parts[0] += [b"tie1 tie2 tie2 tie1 \xff\xfe\n"]
    parts[1] += [b"tie3 tie3 tie1 tie2 tie0 tie0 \xff\xff\n"]
    parts[2] += [b"tie3 tie0"]
    return three_files(directory, parts)


@pytest.mark.parametrize("n_shards", [1, 2, 3, 7])
def test_the_distributed_count_builds_the_single_process_vocabulary_and_corpus(tmp_path, n_shards):
    # The workers' functions, called here in turn (no cluster needed): shards cut files at byte ranges.
    from fastemb.cluster.worker import count_shard, encode_shard, forget_run
    from fastemb.cluster.sharding import merge_counts
    from fastemb.training.word2vec import read_corpus

    paths = _split_corpus(tmp_path)
    config = Word2VecConfig(min_count=1, threads=1)
    shards = plan_shards(paths, [stream_bytes(p) for p in paths], n_shards)
    assert sum(len(shard) for shard in shards) >= max(n_shards, 3)
    try:
        tables = [count_shard("vocab-test", k, pieces, config) for k, pieces in enumerate(shards)]
        while len(tables) > 1:  # merged pairwise, as the driver's tree does
            tables = [merge_counts(a, b) for a, b in zip(tables[::2], tables[1::2])] + tables[len(tables) // 2 * 2:]
        vocab = tables[0].vocabulary(config.min_count, config.max_vocab)
        single_vocab, single_corpus = read_corpus(paths, config)
        assert vocab.words == single_vocab.words
        assert np.array_equal(vocab.counts, single_vocab.counts)
        assert {"tie0", "tie1", "tie2", "tie3", "\ufffd\ufffd"} <= set(vocab.words)
        infos = [encode_shard("vocab-test", k, pieces, vocab, config) for k, pieces in enumerate(shards)]
        tokens = np.concatenate([np.fromfile(_shard_path(k), np.int32) for k in range(n_shards)])
        assert np.array_equal(tokens, single_corpus.tokens)
        assert sum(info.sentences for info in infos) == single_corpus.n_sentences
    finally:
        forget_run("vocab-test")


def test_fsspec_urls_are_read_as_the_files_they_name(tmp_path):
    pytest.importorskip("fsspec")
    from fastemb.cluster.worker import count_shard, forget_run
    from fastemb.cluster.sharding import expand_inputs_or_urls
    paths = _split_corpus(tmp_path)
    urls = expand_inputs_or_urls([f"file://{tmp_path}/*.txt*"])
    assert urls == [f"file://{path}" for path in sorted(paths)]
    config = Word2VecConfig(min_count=1, threads=1)
    try:
        counted = [[count_shard("url-test", k, pieces, config) for k, pieces in
                    enumerate(plan_shards(inputs, [stream_bytes(p) for p in inputs], 3))] for inputs in (paths, urls)]
        for by_path, by_url in zip(*counted):
            assert by_path.words == by_url.words and np.array_equal(by_path.counts, by_url.counts)
    finally:
        forget_run("url-test")


def _shard_path(shard):
    from fastemb.cluster.worker import _RUNS
    return _RUNS["vocab-test"].corpora[shard].path


@pytest.mark.parametrize("epochs, round_words", [(1, 10_000), (3, 35_000), (5, 1_000_000)])
def test_rounds_train_every_chunk_of_every_epoch_once_with_the_global_schedule(epochs, round_words):
    from fastemb.cluster.rounds import RoundPlan
    rng = np.random.default_rng(1)
    shards = [np.concatenate(([0], np.cumsum(rng.integers(9_000, 11_000, size=n)))) for n in (40, 37, 1, 55)]
    plan = RoundPlan(shards, epochs, round_words)
    assert plan.total == epochs * sum(words[-1] for words in shards)
    for k, words in enumerate(shards):
        trained = [(e, c) for r in range(plan.rounds) for e, first, last in plan.spans(k, r) for c in range(first, last)]
        assert trained == [(e, c) for e in range(epochs) for c in range(len(words) - 1)]
    for r in range(plan.rounds):
        round_words_all = plan.words_before(r + 1) - plan.words_before(r)
        assert round_words_all > 0
        for k in range(len(shards)):
            # the shard's slice of the schedule: its words map onto the round's share of the global words
            before, total = plan.schedule(k, r)
            share = plan.shard_words(k, r) / round_words_all
            assert before == pytest.approx(share * plan.words_before(r)) and total == pytest.approx(share * plan.total)


@pytest.mark.parametrize("shards", [1, 2, 3, 4, 5, 8, 16])
def test_average_keeps_linear_rows_at_the_single_pace_and_saturated_rows_near_the_shards_point(shards):
    # Every shard at the rate times M returns, for each row, either M x its single-rate change g (a row in
    # the linear regime) or the same point p (a row that saturates). Rows below slow_rows take the mean.
    from fastemb.cluster.rounds import DeltaSum, rate_scale
    slow_rows, scale = 3, rate_scale("average", shards)
    g = np.random.default_rng(shards).normal(size=(10, 4)).astype(np.float32)
    for linear in (True, False):
        table = np.zeros((10, 4), np.float32)
        combined = DeltaSum(table, "average", shards, slow_rows)
        for _ in range(shards):
            combined.add(np.arange(10, dtype=np.int32), scale * g if linear else g)
        ids, _ = combined.apply()
        assert list(ids) == list(range(10))
        np.testing.assert_allclose(table[:slow_rows], (scale * g if linear else g)[:slow_rows], rtol=1e-5)
        if linear and shards <= 2 * scale:  # the sum at the single rate; past that, half the shards' worth
            np.testing.assert_allclose(table[slow_rows:], shards * g[slow_rows:], rtol=1e-5)
        elif linear:
            np.testing.assert_allclose(table[slow_rows:], 2 * scale * g[slow_rows:], rtol=1e-5)
        else:  # between the point and twice the way to it: a swing that does not grow
            ratio = table[slow_rows:] / g[slow_rows:]
            assert np.all((ratio >= 1 - 1e-5) & (ratio <= 2 + 1e-5))
            assert shards > scale or np.allclose(ratio, 1)


def test_default_rounds_are_shared_out_past_two_workers():
    from fastemb.cluster.driver import DEFAULT_ROUND_WORDS, MIN_ROUNDS, ROUND_WORDS_ALL, default_round_words
    chunk = 10_000
    for workers in range(1, 40):
        words = default_round_words(workers, 10**10, chunk)
        assert words >= chunk
        if workers <= 2:
            assert words == DEFAULT_ROUND_WORDS
        else:
            assert words <= max(chunk, ROUND_WORDS_ALL // workers) and workers * words > ROUND_WORDS_ALL - workers
        small = 40 * chunk  # a small corpus still gets MIN_ROUNDS rounds, of a chunk at least
        short = default_round_words(workers, small, chunk)
        assert chunk <= short <= words and (short == chunk or small // short >= MIN_ROUNDS)


def test_two_workers_answer_the_planted_analogies(two_workers):
    report = two_workers.report
    assert report["workers"] == 2 and report["distributed"]["rounds"] > 10
    assert report["words"] == 5 * report["corpus_tokens"] == sum(r["words"] for r in report["distributed"]["rounds_done"])
    assert _accuracy(two_workers.vectors) >= 0.90


def test_a_worker_killed_mid_round_loses_no_update_and_counts_none_twice(client, two_workers, monkeypatch):
    # The run is the reference run, but in round 3 a worker process is killed while the round's tasks run:
    # Dask runs its task again on the other worker, the nanny starts a new process that gets a shard (and
    # the whole model) the next round. Every task is a pure function of its arguments, so the vectors are
    # the reference run's, bit for bit.

    killed = kill_a_worker_in_round(client, 3, monkeypatch)
    model = _train(client)
    assert killed
    report = model.report
    assert report["words"] == sum(r["words"] for r in report["distributed"]["rounds_done"])
    assert np.array_equal(model.input_rows, two_workers.input_rows)
    assert np.array_equal(model.output_rows, two_workers.output_rows)
    assert _accuracy(model.vectors) >= 0.90
    client.wait_for_workers(2, timeout=60)  # the nanny's new worker, for the tests that follow


def test_a_task_the_scheduler_drops_runs_again_with_the_whole_model(client, two_workers, monkeypatch):
    # What as_completed gives for a future the scheduler cancelled (its data lost with its workers): the
    # driver sends the whole model and runs the task again; the vectors are the reference run's.
    import distributed as dask_distributed
    from distributed.client import FutureCancelledError
    as_completed = dask_distributed.as_completed
    rounds = []

    def drop_one_in_round_4(futures, **options):
        rounds.append(1)
        finished = as_completed(futures, **options)
        if len(rounds) != 4:
            return finished

        class Dropping:
            dropped = False

            def add(self, future):
                finished.add(future)

            def __iter__(self):
                for future, result in finished:
                    if not Dropping.dropped:
                        Dropping.dropped = True
                        result = FutureCancelledError(future.key, "lost in a test")
                    yield future, result
        return Dropping()

    monkeypatch.setattr(dask_distributed, "as_completed", drop_one_in_round_4)
    model = _train(client)
    assert model.report["distributed"]["rounds_done"][3]["models_requested"] == 1
    assert np.array_equal(model.input_rows, two_workers.input_rows)
    assert np.array_equal(model.output_rows, two_workers.output_rows)


def test_a_round_returns_only_the_rows_it_changed():
    from fastemb.cluster.worker import ModelMessage, RoundTask, encode_shard, forget_run, train_round
    from fastemb.cluster.rounds import RoundPlan
    from fastemb.cluster.sharding import Piece
    from fastemb.training.word2vec import read_corpus

    config = Word2VecConfig(dim=16, threads=1, negative=2)
    vocab, _ = read_corpus(str(CORPUS), config)
    pieces = [Piece(str(CORPUS), 0, 200_000)]  # the lines of the first 200 kB: a few thousand words
    try:
        info = encode_shard("delta-test", 0, pieces, vocab, config)
        plan = RoundPlan([info.chunk_words], 1, 20_000)
        rng = np.random.default_rng(0)
        model = (rng.standard_normal((len(vocab), 16)).astype(np.float32),
                 rng.standard_normal((len(vocab), 16)).astype(np.float32))
        message = ModelMessage(0, True, None, model[0], None, model[1])
        task = RoundTask("delta-test", 0, 0, pieces, config, plan.spans(0, 0), *plan.schedule(0, 0))
        result = train_round(task, vocab, message)
        # The words of the round's chunks are the only input rows that can move; every row sent moved.
        assert 0 < len(result.input_ids) < len(vocab) and 0 < len(result.output_ids) < len(vocab)
        for delta in (result.input_delta, result.output_delta):
            assert np.all(np.any(delta != 0, axis=1))
        # The worker's replica is back at the model, ready for its next shard or round.
        from fastemb.cluster.worker import _RUNS
        trainer = _RUNS["delta-test"].trainers[0]
        assert np.array_equal(trainer.input_rows, model[0]) and np.array_equal(trainer.output_rows, model[1])
        # Training the same chunks on a plain trainer moves exactly those rows, by those amounts.
        from fastemb.training.trainer import Trainer
        from fastemb.training.word2vec import word2vec_job
        alone = Trainer(word2vec_job(_RUNS["delta-test"].corpora[0], vocab, config, model[0].copy(), model[1].copy()))
        for epoch, first, last in task.spans:
            alone.train_span(epoch, first, last, task.words_before, task.total_words)
        for after, before, ids, delta in ((alone.input_rows, model[0], result.input_ids, result.input_delta),
                                          (alone.output_rows, model[1], result.output_ids, result.output_delta)):
            moved = np.flatnonzero(np.any(after != before, axis=1))
            assert np.array_equal(moved, ids)
            assert np.allclose(before[ids] + delta, after[ids], atol=1e-6)
        first = result.input_delta.copy()
        again = train_round(task, vocab, message)  # a task run twice gives the same result
        assert np.array_equal(again.input_delta, first)
    finally:
        forget_run("delta-test")


def test_an_interrupted_distributed_run_resumes_to_the_same_vectors(client, two_workers, tmp_path, monkeypatch):
    from fastemb.cluster import driver as driver
    config = Word2VecConfig(**{k: v for k, v in SETTINGS.items() if k != "round_words"})
    trainer, report = driver.prepare(str(CORPUS), config, cluster=client, round_words=SETTINGS["round_words"])
    output = tmp_path / "vectors.txt"
    model = stopped_after_round_4_and_resumed(client, trainer, report, CORPUS, output, monkeypatch)
    assert np.array_equal(model.input_rows, two_workers.input_rows)
    assert np.array_equal(model.output_rows, two_workers.output_rows)
    assert output.read_text() != "old output\n"


@pytest.mark.parametrize("command", ["skipgram", "supervised"])
def test_without_dask_cluster_is_one_error_line(monkeypatch, tmp_path, command):
    from click.testing import CliRunner

    from fastemb.cli import main
    monkeypatch.setitem(__import__("sys").modules, "distributed", None)
    result = CliRunner().invoke(main, [command, str(CORPUS), "-o", str(tmp_path / "v.txt"), "--cluster", "local:2"])
    assert result.exit_code == 1
    assert result.output.strip() == "Error: --cluster needs dask.distributed: pip install 'fastemb[distributed]'"
    assert not (tmp_path / "v.txt").exists()


@pytest.mark.parametrize("args, message", [
    (["skipgram", "--cluster", "tcp://127.0.0.1:9"], "Error: --cluster tcp://127.0.0.1:9: cannot reach a Dask scheduler"),
    (["cbow", "--cluster", "local:0"], "Error: --cluster local:0: expected local:N with N >= 1"),
    (["skipgram", "--cluster", "nowhere"], "Error: --cluster nowhere: expected local:N or a Dask scheduler address"),
    (["skipgram", "-", "--cluster", "local:1"], "standard input ('-') cannot be shared"),
    (["supervised", "-", "--cluster", "local:1"], "standard input ('-') cannot be shared"),
])
def test_cluster_errors_are_one_line(tmp_path, args, message):
    done = run_cli(*args, "-o", tmp_path / "out.txt", input_text="a b c\n")
    assert done.returncode == 1
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out.txt").exists()


def test_resume_on_a_cluster_needs_a_distributed_checkpoint(tmp_path, topic_corpus):
    checkpoint = tmp_path / "run.ckpt"
    done = run_cli("skipgram", topic_corpus, "-o", tmp_path / "v.txt", "--checkpoint", checkpoint, "--threads", "1",
                   "--epochs", "1", "--min-count", "1", "--quiet")
    assert done.returncode == 0, done.stderr
    done = run_cli("resume", checkpoint, "--cluster", "local:1")
    assert done.returncode == 1 and "--cluster continues a distributed run" in done.stderr


def test_ctrl_c_stops_a_local_cluster_run_and_the_checkpoint_resumes(tmp_path):
    """Ctrl-C in a terminal signals the whole foreground process group: the driver and its local cluster's
    worker processes. The run stops at a round's end with exit 130 and no traceback, leaves the old output
    as it was, and `fastemb resume` finishes the run from the checkpoint."""
    import subprocess
    import sys
    import time

    output, checkpoint = tmp_path / "vectors.txt", tmp_path / "run.ckpt"
    output.write_text("old output\n")
    process = subprocess.Popen([sys.executable, "-m", "fastemb.cli", "skipgram", str(CORPUS), "-o", str(output),
                                "--cluster", "local:2", "--dim", "20", "--epochs", "4", "--round-words", "20000",
                                "--checkpoint", str(checkpoint), "--checkpoint-every", "0.01", "--quiet"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while not checkpoint.exists():
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert output.read_text() == "old output\n"
    done = run_cli("resume", checkpoint, "--quiet")
    assert done.returncode == 0, done.stderr
    assert output.read_text().split("\n", 1)[0].split() == [str(len(output.read_text().splitlines()) - 1), "20"]
