"""Long runs: Ctrl-C, SIGTERM and SIGKILL lose nothing, and a checkpoint resumes exactly (skip-gram, the classifier)."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from fastemb.models.supervised import load_model

from conftest import run_cli

ARGS = ["--dim", "24", "--epochs", "12", "--min-count", "1", "--threads", "1", "--seed", "9", "--quiet"]


@pytest.fixture(scope="module")
def long_corpus(tmp_path_factory):
    """About 600k tokens x 12 epochs: several seconds of one-thread training, ten times the wait for the first
    checkpoint (0.3 s): long enough to interrupt."""
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


def _start(corpus, out, checkpoint, *extra, command="skipgram", args=ARGS):
    return subprocess.Popen([sys.executable, "-m", "fastemb.cli", command, str(corpus), "-o", str(out),
                             "--checkpoint", str(checkpoint), "--checkpoint-every", "0.3", *args, *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(path, process, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        assert process.poll() is None, "training ended before its first checkpoint"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.2)


def _signal_after_first_checkpoint(process, checkpoint, signum, code) -> str:
    """Send ``signum`` once the run has written its first checkpoint; the run must stop within seconds (at the
    next chunk boundary, not at the end of training) with exit ``code`` and no traceback. Returns its stderr."""
    _wait_for(checkpoint, process)
    sent = time.monotonic()
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert time.monotonic() - sent < 10
    assert process.returncode == code, stderr
    assert "Traceback" not in stderr
    return stderr


@pytest.mark.parametrize("signum,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_stops_cleanly_and_the_checkpoint_resumes_bit_identically(long_corpus, uninterrupted, tmp_path,
                                                                        signum, code):
    out, checkpoint = tmp_path / "v.txt", tmp_path / "run.ckpt"
    out.write_text("previous vectors\n")
    stderr = _signal_after_first_checkpoint(_start(long_corpus, out, checkpoint), checkpoint, signum, code)
    lines = stderr.strip().splitlines()[-3:]  # one sentence a line, in the order things were done
    assert lines[0].startswith("Interrupted during epoch ")
    assert lines[1] == f"{out} not written (an existing file is unchanged)."
    assert lines[2] == f"Checkpoint saved to {checkpoint}; continue with: fastemb resume {checkpoint}"
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
    assert process.returncode == 130 and f"Trained so far, saved to {out}" in stderr
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


# --------------------------------------------------------------------------------------------
# The classifier: the same trainer, so the same promises

CLASSIFIER_ARGS = ["--dim", "24", "--epochs", "40", "--word-ngrams", "2", "--buckets", "20000", "--seed", "9",
                   "--quiet"]


def _write_labelled(path, n_lines, seed):
    """12 labels; a line is 1-3 words of its label's 200 and 13-15 of 3,000 shared words, shuffled; 10 % of
    the labels are redrawn at random, so that held-out accuracy is well below 1 and can tell a worse model."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(12, size=n_lines)
    n_topic = rng.integers(1, 4, size=n_lines)
    topic_words, shared_words = rng.integers(200, size=(n_lines, 16)), rng.integers(3000, size=(n_lines, 16))
    order = rng.permuted(np.tile(np.arange(16), (n_lines, 1)), axis=1)
    written = np.where(rng.random(n_lines) < 0.1, rng.integers(12, size=n_lines), labels)
    with open(path, "w") as handle:
        for i in range(n_lines):
            words = ([f"t{labels[i]}_{w}" for w in topic_words[i, :n_topic[i]]]
                     + [f"s{w}" for w in shared_words[i, n_topic[i]:]])
            handle.write(f"__label__{written[i]} " + " ".join(words[j] for j in order[i]) + "\n")
    return path


@pytest.fixture(scope="module")
def labelled_corpus(tmp_path_factory):
    """40k lines x 40 epochs (27 M words): several seconds of one-thread training; and 2k held-out lines."""
    directory = tmp_path_factory.mktemp("labelled")
    return _write_labelled(directory / "train.txt", 40_000, 1), _write_labelled(directory / "test.txt", 2_000, 2)


@pytest.fixture(scope="module")
def uninterrupted_model(labelled_corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("full-model") / "model"
    done = run_cli("supervised", labelled_corpus[0], "-o", out, "--threads", 1, *CLASSIFIER_ARGS)
    assert done.returncode == 0, done.stderr
    return load_model(str(out))


def _start_classifier(corpus, out, checkpoint, *extra, threads=1):
    return _start(corpus, out, checkpoint, "--threads", str(threads), *extra, command="supervised",
                  args=CLASSIFIER_ARGS)


def _assert_same_model(model, expected, test):
    assert model.words == expected.words and model.labels == expected.labels
    assert np.array_equal(model.input_rows, expected.input_rows)
    assert np.array_equal(model.output_rows, expected.output_rows)
    for (labels, probs), (expected_labels, expected_probs) in zip(model.predict_file(str(test), k=3),
                                                                   expected.predict_file(str(test), k=3),
                                                                   strict=True):
        assert labels == expected_labels and np.array_equal(probs, expected_probs)


@pytest.mark.parametrize("signum,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_classifier_stopped_by_a_signal_keeps_the_old_model_and_resumes_to_the_uninterrupted_one(
        labelled_corpus, uninterrupted_model, tmp_path, signum, code):
    train, test = labelled_corpus
    out, checkpoint = tmp_path / "model", tmp_path / "run.ckpt"
    out.write_bytes(b"previous model\0\xff")
    stderr = _signal_after_first_checkpoint(_start_classifier(train, out, checkpoint), checkpoint, signum, code)
    assert f"fastemb resume {checkpoint}" in stderr and "% of all words done" in stderr
    assert out.read_bytes() == b"previous model\0\xff"
    assert sorted(os.listdir(tmp_path)) == ["model", "run.ckpt"]  # no model (nor a temporary one) written
    resumed = run_cli("resume", checkpoint, "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    _assert_same_model(load_model(str(out)), uninterrupted_model, test)


def test_a_killed_classifier_keeps_the_old_model_and_its_checkpoint_resumes(labelled_corpus, uninterrupted_model,
                                                                             tmp_path):
    train, test = labelled_corpus
    out, checkpoint = tmp_path / "model", tmp_path / "run.ckpt"
    out.write_bytes(b"previous model\0\xff")
    process = _start_classifier(train, out, checkpoint)
    _wait_for(checkpoint, process)
    process.kill()
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    assert out.read_bytes() == b"previous model\0\xff"
    resumed = run_cli("resume", checkpoint, "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    _assert_same_model(load_model(str(out)), uninterrupted_model, test)


def test_a_two_thread_classifier_resumes_and_predicts_as_well_as_an_uninterrupted_run(
        labelled_corpus, uninterrupted_model, tmp_path):
    train, test = labelled_corpus
    out, checkpoint = tmp_path / "model", tmp_path / "run.ckpt"
    process = _start_classifier(train, out, checkpoint, threads=2)
    _wait_for(checkpoint, process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert not out.exists()
    resumed = run_cli("resume", checkpoint, "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    model = load_model(str(out))
    assert model.config.threads == 2 and model.config.epochs == 40
    n, precision, _ = model.test(str(test))
    expected_n, expected_precision, _ = uninterrupted_model.test(str(test))
    assert n == expected_n == 2000
    assert expected_precision > 0.6  # the data can be learned: 12 labels, 10 % of them redrawn
    assert abs(precision - expected_precision) <= 0.02


def test_a_classifier_saves_the_model_so_far_on_interrupt(labelled_corpus, tmp_path):
    train, test = labelled_corpus
    out, checkpoint = tmp_path / "model", tmp_path / "run.ckpt"
    process = _start_classifier(train, out, checkpoint, "--save-on-interrupt")
    _wait_for(checkpoint, process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130 and f"Trained so far, saved to {out}" in stderr, stderr
    model = load_model(str(out))
    assert model.dim == 24 and len(model.labels) == 12 and np.any(model.output_rows != 0)
    assert model.test(str(test))[1] > 1 / 12  # trained some: better than a label at random
