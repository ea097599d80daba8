"""Long runs: Ctrl-C, SIGTERM and SIGKILL lose nothing, and a checkpoint resumes exactly."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import run_cli

ARGS = ["--dim", "24", "--epochs", "40", "--min-count", "1", "--threads", "1", "--seed", "9", "--quiet"]


@pytest.fixture(scope="module")
def long_corpus(tmp_path_factory):
    """About 600k tokens x 40 epochs: several seconds of one-thread training, long enough to interrupt."""
    rng = np.random.default_rng(1)
    vocab = np.array([f"w{i}" for i in range(3000)])
    weights = 1.0 / np.arange(1, 3001)
    weights /= weights.sum()
    path = tmp_path_factory.mktemp("long") / "corpus.txt"
    with open(path, "w") as handle:
        for _ in range(30_000):
            handle.write(" ".join(rng.choice(vocab, size=20, p=weights)) + "\n")
    return path


@pytest.fixture(scope="module")
def uninterrupted(long_corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("full") / "v.txt"
    done = run_cli("skipgram", long_corpus, "-o", out, *ARGS)
    assert done.returncode == 0, done.stderr
    return out.read_bytes()


def _start(corpus, out, checkpoint, *extra):
    return subprocess.Popen([sys.executable, "-m", "fastemb.cli", "skipgram", str(corpus), "-o", str(out),
                             "--checkpoint", str(checkpoint), "--checkpoint-every", "0.3", *ARGS, *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(path, process, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        assert process.poll() is None, "training ended before its first checkpoint"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.2)


@pytest.mark.parametrize("signum,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_stops_cleanly_and_the_checkpoint_resumes_bit_identically(long_corpus, uninterrupted, tmp_path,
                                                                        signum, code):
    out, checkpoint = tmp_path / "v.txt", tmp_path / "run.ckpt"
    out.write_text("previous vectors\n")
    process = _start(long_corpus, out, checkpoint)
    _wait_for(checkpoint, process)
    sent = time.monotonic()
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert time.monotonic() - sent < 10  # stops at the next chunk boundary, not at the end of training
    assert process.returncode == code, stderr
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()[-3:]  # one sentence a line: the command to copy stands alone at its end
    assert lines[0].startswith("Interrupted during epoch ")
    assert lines[1] == f"Checkpoint saved to {checkpoint}; continue with: fastemb resume {checkpoint}"
    assert lines[2] == f"{out} was not written (an existing file is unchanged)."
    assert out.read_text() == "previous vectors\n"
    resumed = run_cli("resume", checkpoint, "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    assert out.read_bytes() == uninterrupted


def test_sigkill_leaves_the_old_output_and_a_usable_checkpoint(long_corpus, uninterrupted, tmp_path):
    out, checkpoint = tmp_path / "v.txt", tmp_path / "run.ckpt"
    out.write_text("previous vectors\n")
    process = _start(long_corpus, out, checkpoint)
    _wait_for(checkpoint, process)
    process.kill()
    process.communicate(timeout=60)
    assert out.read_text() == "previous vectors\n"
    resumed = run_cli("resume", checkpoint, "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    assert out.read_bytes() == uninterrupted


def test_save_on_interrupt_writes_the_vectors_so_far(long_corpus, tmp_path):
    out, checkpoint = tmp_path / "v.txt", tmp_path / "run.ckpt"
    process = _start(long_corpus, out, checkpoint, "--save-on-interrupt")
    _wait_for(checkpoint, process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130 and "Vectors trained so far saved" in stderr
    assert out.read_text().split("\n", 1)[0].split()[1] == "24"


def test_resume_refuses_a_changed_corpus_and_foreign_files(long_corpus, tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_bytes(long_corpus.read_bytes())
    out, checkpoint = tmp_path / "v.txt", tmp_path / "run.ckpt"
    process = _start(corpus, out, checkpoint)
    _wait_for(checkpoint, process)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=60)
    with open(corpus, "a") as handle:
        handle.write("w1 w2 w3 w4\n")
    done = run_cli("resume", checkpoint)
    assert done.returncode == 1 and "has changed since the checkpoint" in done.stderr
    (tmp_path / "junk.npz").write_text("not a checkpoint")
    done = run_cli("resume", tmp_path / "junk.npz")
    assert done.returncode == 1 and done.stderr.startswith("Error: ") and "not a fastemb checkpoint" in done.stderr
