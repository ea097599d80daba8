"""The command line, end to end in subprocesses: training, outputs, and every bad input."""
import json

import numpy as np
import pytest

from fastemb.vectors import load_vectors

from conftest import ROOT, run_cli

FAST = ["--dim", "16", "--epochs", "2", "--min-count", "1", "--threads", "1", "--quiet"]


def test_skipgram_writes_text_and_binary_vectors_that_gensim_loads(topic_corpus, tmp_path):
    gensim = pytest.importorskip("gensim")
    text, binary, report = tmp_path / "v.txt", tmp_path / "v.bin", tmp_path / "r.json"
    done = run_cli("skipgram", topic_corpus, "-o", text, "--report", report, *FAST)
    assert done.returncode == 0, done.stderr
    assert "Saved" in done.stdout and done.stderr == ""  # --quiet: no progress at all
    assert run_cli("skipgram", topic_corpus, "-o", binary, "--binary", *FAST).returncode == 0
    ours_text, ours_binary = load_vectors(str(text)), load_vectors(str(binary))
    assert ours_text.words == ours_binary.words and np.array_equal(ours_text.matrix, ours_binary.matrix)
    for path, is_binary in ((text, False), (binary, True)):
        theirs = gensim.models.KeyedVectors.load_word2vec_format(str(path), binary=is_binary)
        assert list(theirs.index_to_key) == ours_text.words
        assert np.array_equal(theirs.vectors, ours_text.matrix)
    figures = json.loads(report.read_text())
    for key in ("train_seconds", "compile_seconds", "read_seconds", "save_seconds", "words", "words_per_sec",
                "threads", "vocab_size", "version"):
        assert key in figures
    assert figures["vocab_size"] == len(ours_text) and figures["threads"] == 1


def test_one_thread_runs_give_identical_files(topic_corpus, tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    for out in (a, b):
        assert run_cli("skipgram", topic_corpus, "-o", out, "--seed", "3", *FAST).returncode == 0
    assert a.read_bytes() == b.read_bytes()


def test_progress_goes_to_stderr_and_results_to_stdout(topic_corpus, tmp_path):
    done = run_cli("skipgram", topic_corpus, "-o", tmp_path / "v.txt", "--dim", "8", "--min-count", "1")
    assert done.returncode == 0
    assert "Progress:" in done.stderr and "words/sec/thread" in done.stderr and "ETA" in done.stderr
    assert "Progress:" not in done.stdout and "words/sec" in done.stdout


def test_neighbors_prints_nearest_words(topic_corpus, tmp_path):
    out = tmp_path / "v.txt"
    run_cli("skipgram", topic_corpus, "-o", out, "--epochs", "5", "--dim", "20", "--min-count", "1", "--quiet")
    done = run_cli("neighbors", out, "a1", "nosuchword", "-k", "5")
    assert done.returncode == 0
    first = done.stdout.splitlines()[0]
    assert first.startswith("a1: ") and first.count(" a") == 5  # all neighbours from a1's own topic
    assert "nosuchword: not in the vocabulary" in done.stdout


def test_default_corpus_is_used_and_announced(tmp_path):
    done = run_cli("skipgram", "-o", tmp_path / "v.txt", "--epochs", "1", "--dim", "8", "--quiet")
    assert done.returncode == 0, done.stderr
    assert "embedded default corpus" in done.stderr


@pytest.mark.parametrize("args,message", [
    (["missing.txt"], "missing.txt: no such file"),
    (["."], "is a directory"),
    (["empty.txt"], "empty"),
    (["rare.txt", "--min-count", "50"], "no word occurs at least 50 times"),
    (["rare.txt", "--dim", "0"], "--dim must be a positive integer"),
    (["rare.txt", "--window", "-1"], "--window must be a positive integer"),
    (["rare.txt", "--negative", "0"], "--negative must be a positive integer"),
    (["rare.txt", "--epochs", "0"], "--epochs must be a positive integer"),
    (["rare.txt", "--lr", "0"], "--lr must be > 0"),
    (["rare.txt", "--sample", "-1"], "--sample must be >= 0"),
])
def test_bad_input_is_one_clear_line_and_leaves_the_output_alone(tmp_path, args, message):
    (tmp_path / "empty.txt").write_text("  \n\n")
    (tmp_path / "rare.txt").write_text("a b c\n")
    out = tmp_path / "out.txt"
    out.write_text("precious\n")
    done = run_cli("skipgram", *args, "-o", out, "--quiet", cwd=tmp_path)
    assert done.returncode != 0
    assert done.stderr.startswith("Error: ") and message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert out.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.txt", "out.txt", "rare.txt"]


@pytest.mark.parametrize("output,message", [("nodir/v.txt", "does not exist"), (".", "is a directory")])
def test_unwritable_output_fails_before_training(topic_corpus, tmp_path, output, message):
    done = run_cli("skipgram", topic_corpus, "-o", output, "--quiet", cwd=tmp_path)
    assert done.returncode != 0 and message in done.stderr and "Traceback" not in done.stderr


def test_malformed_vectors_file_names_the_line(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("2 3\nx 1 2 3\ny 1 oops 3\n")
    done = run_cli("neighbors", bad, "x")
    assert done.returncode != 0
    assert done.stderr.startswith("Error: ") and "line 3" in done.stderr and "Traceback" not in done.stderr


def test_help_does_not_import_numba():
    import subprocess
    import sys
    code = "import sys, fastemb.cli; fastemb.cli.main(['--help'], standalone_mode=False); print('numba' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.strip().endswith("False")


def test_bench_prints_words_per_second_for_each_thread_count(topic_corpus):
    done = run_cli("bench", topic_corpus, "--words", "20000", "--threads", "2", "--repeat", "1", "--min-count", "1")
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines()[1:]]
    assert [row[0] for row in rows] == ["1", "2"]
    assert all(float(row[1].replace(",", "")) > 0 for row in rows)
