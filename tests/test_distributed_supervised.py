"""The classifier on a Dask cluster: the dictionary of a distributed count, accuracy against one process, a
killed worker, checkpoints and resume, the CLI's outputs and its error lines."""
import numpy as np
import pytest

from fastemb.base.config import SupervisedConfig
from fastemb.cluster.sharding import plan_shards, stream_bytes

from conftest import three_files, kill_a_worker_in_round, run_cli, stopped_after_round_4_and_resumed

pytest.importorskip("distributed")

SETTINGS = dict(dim=16, epochs=5, lr=0.5, word_ngrams=2, buckets=20_000, threads=1, seed=2)


def _noisy_lines(rng, n, labels=("a", "b", "c", "d")):
    """A line is 3 words of its label's 40, 3 of a label drawn at random (its own a quarter of the time) and 6
    of 200 shared words: one process scores about 0.63, far from both chance (0.25) and 1."""
    lines = []
    for _ in range(n):
        label, other = labels[rng.integers(len(labels))], labels[rng.integers(len(labels))]
        words = ([f"{label}{i}" for i in rng.integers(0, 40, size=3)]
                 + [f"{other}{i}" for i in rng.integers(0, 40, size=3)] + [f"w{i}" for i in rng.integers(0, 200, size=6)])
        rng.shuffle(words)
        lines.append(" ".join([f"__label__{label}"] + words))
    return lines


@pytest.fixture(scope="module")
def noisy(tmp_path_factory):
    directory = tmp_path_factory.mktemp("noisy")
    rng = np.random.default_rng(5)
    train, test = directory / "train.txt", directory / "test.txt"
    train.write_text("\n".join(_noisy_lines(rng, 4000)) + "\n")
    test.write_text("\n".join(_noisy_lines(rng, 1000)) + "\n")
    return train, test


def _train(path, client=None, **options):
    from fastemb import train_supervised
    return train_supervised(str(path), cluster=client, quiet=True, **{**SETTINGS, **options})


@pytest.fixture(scope="module")
def two_workers(client, noisy):
    """The reference run: 2 workers on the noisy set."""
    return _train(noisy[0], client)


def _odd_files(directory):
    """Labelled lines in three files (gzip, plain, plain without a last newline): words and labels tied in count
    that first occur in different files, a literal </s> only in the second file, invalid UTF-8 that reads as
    another word, blank lines, a line without a label and one of a label alone; at the end of the first file a
    token and a line longer than the limit table keeps (base/limits.py), which every reader cuts alike."""
    from fastemb.base.limits import MAX_LINE_TOKENS, MAX_TOKEN_BYTES
    rng = np.random.default_rng(1)
    lines = [line.encode() + b"\n" for line in _noisy_lines(rng, 900)]
    parts = [lines[:400], lines[400:700], lines[700:]]
    parts[0] += [b"__label__t1 tie1 tie2 tie2 tie1 \xff\xfe\n", b"\n", b"no label here\n",
                 b"__label__b w1 " + b"x" * (MAX_TOKEN_BYTES + 100) + b"\n",
                 b"__label__a " + b" ".join([b"w7", b"long"] * MAX_LINE_TOKENS) + b"\n"]
    parts[1] += [b"__label__t2 tie3 tie3 </s> tie1 tie2 tie0 tie0 \xff\xff\n", b"__label__t1\n", b"  \n"]
    parts[2] += [b"__label__t2 __label__t0 tie3 tie0"]
    return three_files(directory, parts)


@pytest.mark.parametrize("n_shards", [1, 2, 5])
@pytest.mark.parametrize("eos", [True, False])
def test_the_distributed_count_builds_the_single_process_dictionary_and_examples(tmp_path, n_shards, eos):
    # The workers' functions, called here in turn (no cluster needed): shards cut the files at byte ranges.
    from fastemb.cluster.shards import SUPERVISED
    from fastemb.cluster.worker import count_shard, encode_shard, forget_run
    from fastemb.text.labelled import read_training_data
    from fastemb.text.corpus import MAX_TOKEN_BYTES
    from fastemb.cluster.sharding import merge_counts

    paths = _odd_files(tmp_path)
    config = SupervisedConfig(word_ngrams=2, buckets=1000, eos=eos, threads=1)
    shards = plan_shards(paths, [stream_bytes(p) for p in paths], n_shards)
    try:
        tables = [count_shard("sup-vocab", k, pieces, config) for k, pieces in enumerate(shards)]
        while len(tables) > 1:  # merged pairwise, as the driver's tree does
            tables = [merge_counts(a, b) for a, b in zip(tables[::2], tables[1::2])] + tables[len(tables) // 2 * 2:]
        classes = SUPERVISED.dictionary(tables[0], config, "odd files")
        single = read_training_data(paths, config)
        for ours, theirs in ((classes.words, single.words), (classes.labels, single.labels)):
            assert ours.words == theirs.words and np.array_equal(ours.counts, theirs.counts)
        assert single.reader == "scan" and (single.truncated, single.cut_lines) == (1, 1)
        assert "x" * MAX_TOKEN_BYTES in classes.words.words and max(map(len, classes.words.words)) == MAX_TOKEN_BYTES
        assert {"tie0", "tie1", "tie2", "tie3", "\ufffd\ufffd"} <= set(classes.words.words)
        assert classes.labels.words[-3:] == ["__label__t1", "__label__t2", "__label__t0"]
        infos = [encode_shard("sup-vocab", k, pieces, classes, config) for k, pieces in enumerate(shards)]
        from fastemb.cluster.worker import _RUNS
        examples = [_RUNS["sup-vocab"].corpora[k][0].examples for k in range(n_shards)]
        for name in ("rows", "labels", "word_counts"):  # the shards' examples, end to end, are the single process's
            assert np.array_equal(np.concatenate([getattr(e, name) for e in examples]), getattr(single.examples, name))
        assert {info.details["reader"] for info in infos} == {"scan"}  # long lines too: scan cuts them
        assert sum(info.details["lines"] for info in infos) == single.lines
        assert sum(info.details["skipped_no_label"] for info in infos) == single.skipped_no_label == 1
    finally:
        forget_run("sup-vocab")


def test_a_two_worker_cluster_builds_the_single_process_dictionary_of_one_file_cut_by_bytes(client, two_workers,
                                                                                            noisy):
    single = _train(noisy[0], epochs=1)
    assert len(two_workers.report["distributed"]["rounds_done"]) > 5
    assert two_workers.words == single.words and two_workers.labels == single.labels
    assert np.array_equal(two_workers.word_counts, single.word_counts)
    assert np.array_equal(two_workers.label_counts, single.label_counts)
    assert np.array_equal(two_workers.trained_buckets, single.trained_buckets)


def test_two_workers_classify_about_as_well_as_one_process(two_workers, noisy):
    alone = _train(noisy[0]).test(str(noisy[1]))[1]
    together = two_workers.test(str(noisy[1]))[1]
    assert alone > 0.55  # well above chance: a cluster that learned less would show
    assert together >= alone - 0.03
    report = two_workers.report
    assert report["workers"] == 2 and report["objective"] == "supervised"
    assert report["words"] == sum(r["words"] for r in report["distributed"]["rounds_done"])


def test_a_worker_killed_mid_round_changes_nothing(client, two_workers, noisy, monkeypatch):
    # As for skip-gram (test_distributed.py): Dask runs the lost task again on the other worker, every task is a
    # pure function of its arguments, so the model is the reference run's, bit for bit.
    killed = kill_a_worker_in_round(client, 3, monkeypatch)
    model = _train(noisy[0], client)
    assert killed
    assert np.array_equal(model.input_rows, two_workers.input_rows)
    assert np.array_equal(model.output_rows, two_workers.output_rows)
    assert model.test(str(noisy[1]))[1] == two_workers.test(str(noisy[1]))[1]
    client.wait_for_workers(2, timeout=60)  # the nanny's new worker, for the tests that follow


def test_an_interrupted_run_resumes_to_the_same_model(client, two_workers, noisy, tmp_path, monkeypatch):
    from fastemb.cluster import driver as driver
    from fastemb.models.supervised import load_model
    trainer, report = driver.prepare(str(noisy[0]), SupervisedConfig(**SETTINGS), cluster=client)
    output = tmp_path / "model.npz"
    model = stopped_after_round_4_and_resumed(client, trainer, report, noisy[0], output, monkeypatch)
    for resumed in (model, load_model(str(output))):
        assert np.array_equal(resumed.input_rows, two_workers.input_rows)
        assert np.array_equal(resumed.output_rows, two_workers.output_rows)


def test_the_cli_writes_a_model_and_vectors_that_test_reads(noisy, tmp_path):
    model, vectors, report = tmp_path / "model.npz", tmp_path / "vectors.txt", tmp_path / "report.json"
    done = run_cli("supervised", noisy[0], "-o", model, "--vectors", vectors, "--report", report, "--cluster",
                   "local:2", "--dim", "16", "--epochs", "5", "--lr", "0.5", "--quiet")
    assert done.returncode == 0, done.stderr
    assert "2 workers x 1 thread" in done.stdout
    import json
    assert json.loads(report.read_text())["distributed"]["shards"] == 2
    assert int(vectors.read_text().split("\n", 1)[0].split()[0]) > 200
    tested = run_cli("test", model, noisy[1])
    assert tested.returncode == 0 and float(tested.stdout.split("\n")[1].split()[1]) > 0.55
