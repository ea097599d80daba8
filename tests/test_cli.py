"""The command line, end to end in subprocesses: training, outputs, and every bad input."""
import json

import numpy as np
import pytest

from fastemb.models.vectors import load_vectors

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


def _halves(path, tmp_path):
    """``path`` cut in two files at a line boundary (each ends with a newline, as `cat` would join them)."""
    lines = path.read_text().splitlines(keepends=True)
    first, second = tmp_path / "part-1.txt", tmp_path / "part-2.txt"
    first.write_text("".join(lines[:len(lines) // 3]))
    second.write_text("".join(lines[len(lines) // 3:]))
    return first, second


def test_stdin_and_several_files_train_the_vectors_of_the_concatenated_file(topic_corpus, tmp_path):
    first, second = _halves(topic_corpus, tmp_path)
    args = ["--seed", "1", *FAST]
    whole = run_cli("skipgram", topic_corpus, "-o", tmp_path / "whole.txt", *args)
    assert whole.returncode == 0, whole.stderr
    runs = {"files": run_cli("skipgram", first, second, "-o", tmp_path / "files.txt", *args),
            "stdin": run_cli("skipgram", "-", second, "-o", tmp_path / "stdin.txt", *args,
                             input_text=first.read_text()),
            "glob": run_cli("skipgram", "part-*.txt", "-o", tmp_path / "glob.txt", *args, cwd=tmp_path)}
    for name, done in runs.items():
        assert done.returncode == 0, done.stderr
        assert (tmp_path / f"{name}.txt").read_bytes() == (tmp_path / "whole.txt").read_bytes(), name
    reversed_order = run_cli("skipgram", second, first, "-o", tmp_path / "reversed.txt", *args)
    assert reversed_order.returncode == 0
    assert (tmp_path / "reversed.txt").read_bytes() != (tmp_path / "whole.txt").read_bytes()  # order matters


def test_stdin_and_several_files_train_the_classifier_of_the_concatenated_file(tmp_path):
    from fastemb.models.supervised import load_model
    train, test = ROOT / "data" / "labelled-train.txt", ROOT / "data" / "labelled-test.txt"
    first, second = _halves(train, tmp_path)
    args = ["--dim", "16", "--epochs", "2", "--word-ngrams", "2", "--buckets", "5000", "--threads", "1",
            "--seed", "1", "--quiet"]
    runs = {"whole": run_cli("supervised", train, "-o", tmp_path / "whole.npz", *args),
            "files": run_cli("supervised", first, second, "-o", tmp_path / "files.npz", *args),
            "stdin": run_cli("supervised", first, "-", "-o", tmp_path / "stdin.npz", *args,
                             input_text=second.read_text())}
    predictions = {}
    for name, done in runs.items():
        assert done.returncode == 0, done.stderr
        model = load_model(str(tmp_path / f"{name}.npz"))
        predictions[name] = run_cli("predict", tmp_path / f"{name}.npz", test, "-k", "2", "--probabilities").stdout
        assert model.words == load_model(str(tmp_path / "whole.npz")).words
    assert predictions["whole"].count("\n") == 1000
    assert predictions["files"] == predictions["whole"] and predictions["stdin"] == predictions["whole"]


@pytest.mark.parametrize("args,message", [
    (["nothing-*.txt"], "nothing-*.txt: no such file, and no file matches it as a pattern"),
    (["-", "-"], "'-' (standard input) can be given only once"),
    (["rare.txt", "missing.txt"], "missing.txt: no such file"),
])
def test_bad_input_lists_are_one_clear_line(tmp_path, args, message):
    (tmp_path / "rare.txt").write_text("a b c\n")
    for command in ("skipgram", "supervised"):
        done = run_cli(command, *args, "-o", tmp_path / "out", "--quiet", cwd=tmp_path, input_text="")
        assert done.returncode == 1 and done.stderr == f"Error: {message}\n", done.stderr


def test_a_run_on_stdin_cannot_be_resumed_and_says_so(topic_corpus, tmp_path):
    checkpoint = tmp_path / "run.ckpt"
    done = run_cli("skipgram", "-", "-o", tmp_path / "v.txt", "--checkpoint", checkpoint, *FAST,
                   input_text=topic_corpus.read_text())
    assert done.returncode == 0 and checkpoint.exists(), done.stderr
    resumed = run_cli("resume", checkpoint)
    assert resumed.returncode == 1 and "Traceback" not in resumed.stderr
    assert resumed.stderr == (f"Error: {checkpoint}: the run read its input from standard input, which cannot be "
                              f"read again; to go on, train on the data as a file with --init {checkpoint}\n")


def test_the_read_summary_counts_tokens_read_and_tokens_kept(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("a b c a b a\nrare a b\nb a once\n")  # 12 tokens; a and b occur at least twice
    done = run_cli("skipgram", corpus, "-o", tmp_path / "v.txt", "--min-count", "2", "--dim", "8", "--epochs", "1",
                   "--threads", "1")
    assert done.returncode == 0, done.stderr
    assert "Read 12 tokens (9 kept by --min-count 2) in " in done.stderr
    assert "(9 tokens x 1 epoch)" in done.stdout
