from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


def shared_data() -> Path | None:
    """../shared/data beside the repository root, or $FASTEMB_DATA."""
    for candidate in (os.environ.get("FASTEMB_DATA"), ROOT.parent / "shared" / "data"):
        if candidate and Path(candidate, "en-mix-small.txt.gz").exists():
            return Path(candidate)
    return None


@pytest.fixture
def real_data() -> Path:
    path = shared_data()
    if path is None:
        pytest.skip("../shared/data not found (set FASTEMB_DATA)")
    return path


def run_cli(*args, cwd=None, input_text=None):
    """Run ``fastemb`` in a subprocess, as a user would."""
    return subprocess.run([sys.executable, "-m", "fastemb.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, input=input_text)


def assert_one_error_line(done, *expected):
    """Exit code 1 (not a signal), a single 'Error: ...' line holding every ``expected`` text."""
    assert done.returncode == 1, (done.returncode, done.stderr[-2000:])
    assert done.stderr.startswith("Error: ") and done.stderr.count("\n") == 1, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and "Warning" not in done.stderr
    for text in expected:
        assert str(text) in done.stderr, (text, done.stderr)


MEASURE = ("import resource, subprocess, sys; done = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
           "sys.stderr.write(done.stderr); "
           "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def run_measured(*args):
    """Run the CLI in a grandchild; (CompletedProcess with its stderr, its exit code, peak RSS in MB)."""
    done = subprocess.run([sys.executable, "-c", MEASURE, sys.executable, "-m", "fastemb.cli", *map(str, args)],
                          capture_output=True, text=True)
    code, peak_kb = map(int, done.stdout.split())
    done.returncode = code
    return done, peak_kb / 1024


@pytest.fixture
def topic_corpus(tmp_path) -> Path:
    """A small corpus with two disjoint topics: words co-occur only within their topic."""
    rng = np.random.default_rng(0)
    topics = [[f"a{i}" for i in range(20)], [f"b{i}" for i in range(20)]]
    lines = []
    for _ in range(3000):
        words = topics[rng.integers(2)]
        lines.append(" ".join(rng.choice(words, size=12)))
    path = tmp_path / "topics.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def labelled(tmp_path) -> Path:
    """200 labelled lines of two classes, each with words of its own."""
    rng = np.random.default_rng(3)
    lines = [f"__label__{'ab'[i % 2]} " + " ".join(rng.choice([f"{'ab'[i % 2]}{j}" for j in range(10)], size=6))
             for i in range(200)]
    path = tmp_path / "labelled.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def checkpoint_after_steps(trainer, steps: int, path, monkeypatch, position: str) -> dict:
    """Run ``trainer`` until ``steps`` segment steps are done, stop it there as Ctrl-C would (it must
    report ``position``), save a checkpoint to ``path`` and return it as load_checkpoint reads it."""
    from fastemb.training.checkpoint import load_checkpoint, save_checkpoint
    from fastemb.training.trainer import Interrupted, Trainer
    done = {"count": 0}
    advance = Trainer._advance

    def advance_then_stop(self, progress):
        advance(self, progress)
        done["count"] += 1
        if done["count"] == steps:
            raise KeyboardInterrupt

    monkeypatch.setattr(Trainer, "_advance", advance_then_stop)
    with pytest.raises(Interrupted, match=position):
        trainer.run()
    monkeypatch.setattr(Trainer, "_advance", advance)
    save_checkpoint(str(path), trainer, {})
    saved = load_checkpoint(str(path))
    assert saved["meta"]["segment"] == trainer.segment > 0
    return saved


def stopped_and_resumed(corpus_path, config, tmp_path, monkeypatch):
    """Train ``config`` (a Word2VecConfig) on ``corpus_path`` read from disk in segments of 5,000 tokens three
    times: to the end; stopped after 6 segment steps (epoch 2) and checkpointed; resumed from that checkpoint
    to the end. Returns (reference, resumed, checkpoint as loaded): resuming must give the reference."""
    from fastemb.text import corpus
    from fastemb.training import word2vec
    monkeypatch.setattr(corpus.DiskCorpus, "segment_tokens", 5_000)
    reference, _ = word2vec.prepare(str(corpus_path), config, workdir=str(tmp_path))
    reference.run()
    trainer, _ = word2vec.prepare(str(corpus_path), config, workdir=str(tmp_path))
    saved = checkpoint_after_steps(trainer, 6, tmp_path / "run.ckpt", monkeypatch, f"epoch 2 of {config.epochs}")
    resumed, _ = word2vec.prepare(str(corpus_path), config, vocab=trainer.job.vocab, workdir=str(tmp_path))
    resumed.restore(saved)
    resumed.run()
    return reference, resumed, saved


def train_fasttext(command: str, input_path, output, **options) -> Path:
    """Train with fastText itself and return ``output``.bin: its CLI (``fasttext``) when on PATH, with one
    thread, else the ``fasttext`` Python module with 10 threads (its training is unreliable with fewer here).
    ``options`` use fastText's names (dim, epoch, minCount, bucket, minn, maxn, wordNgrams, loss).
    ``command`` "quantize" turns ``output``.bin into ``output``.ftz."""
    import shutil
    fasttext = pytest.importorskip("fasttext")
    if shutil.which("fasttext"):
        flags = [str(part) for key, value in options.items() for part in (f"-{key}", value)]
        subprocess.run(["fasttext", command, "-input", str(input_path), "-output", str(output), "-verbose", "0",
                        *([] if command == "quantize" else ["-thread", "1"]), *flags], check=True, capture_output=True)
    elif command == "quantize":
        model = fasttext.load_model(f"{output}.bin")
        model.quantize(input=str(input_path), **options)
        model.save_model(f"{output}.ftz")
    else:
        train = fasttext.train_supervised if command == "supervised" else fasttext.train_unsupervised
        extra = {} if command == "supervised" else {"model": command}
        train(str(input_path), thread=10, verbose=0, **extra, **options).save_model(f"{output}.bin")
    return Path(f"{output}.{'ftz' if command == 'quantize' else 'bin'}")


@pytest.fixture(scope="session")
def client():
    """A Dask cluster of 2 worker processes of one thread each, shared by the distributed tests."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                       silence_logs=50)
    with distributed.Client(cluster) as connection:
        yield connection
    cluster.close()


def kill_a_worker_in_round(client, round_number: int, monkeypatch) -> list:
    """Kill a worker process of ``client``'s cluster (SIGKILL) while the tasks of round ``round_number`` of the
    next distributed run are out; returns the list the killed worker's address is put in."""
    import signal

    import distributed as dask_distributed
    as_completed = dask_distributed.as_completed
    killed, rounds = [], []

    def kill_in_round(futures, **options):
        rounds.append(1)
        if len(rounds) == round_number:
            address, pid = sorted(client.run(os.getpid).items())[0]
            os.kill(pid, signal.SIGKILL)
            killed.append(address)
        return as_completed(futures, **options)

    monkeypatch.setattr(dask_distributed, "as_completed", kill_in_round)
    return killed


def stopped_after_round_4_and_resumed(client, trainer, report, input_path, output, monkeypatch):
    """Train a distributed run's ``trainer`` with a checkpoint after every round, stop it as Ctrl-C would after
    round 4 (``output``, which holds "old output", must stay as it was), then resume the checkpoint on ``client``
    to the end; returns the resumed model."""
    from fastemb.cluster import driver as driver
    from fastemb.training.run import resume, run_to_file
    from fastemb.training.trainer import Interrupted
    merge = driver.ClusterTrainer._merge

    def stop_after_round_4(self, *args):
        merge(self, *args)
        if self.round == 4:
            raise KeyboardInterrupt

    monkeypatch.setattr(driver.ClusterTrainer, "_merge", stop_after_round_4)
    checkpoint = output.parent / "run.ckpt"
    output.write_text("old output\n")
    with pytest.raises(Interrupted, match="round 5 of"):
        run_to_file(trainer, report, {"input": str(input_path), "output": str(output)}, str(checkpoint),
                    checkpoint_every=1e-6)
    assert output.read_text() == "old output\n"
    monkeypatch.setattr(driver.ClusterTrainer, "_merge", merge)
    model, _ = resume(str(checkpoint), cluster=client, distributed=driver.resume_prepare)
    assert model.report["resumed_from"] == str(checkpoint)
    return model


def three_files(directory, parts) -> list[str]:
    """Three lists of lines (bytes) written as a.txt.gz, b.txt and c.txt in ``directory``; their paths."""
    import gzip
    paths = [directory / "a.txt.gz", directory / "b.txt", directory / "c.txt"]
    paths[0].write_bytes(gzip.compress(b"".join(parts[0])))
    paths[1].write_bytes(b"".join(parts[1]))
    paths[2].write_bytes(b"".join(parts[2]))
    return [str(p) for p in paths]
