"""The limit table (base/limits.py) holds for every reader: inputs that used to cost gigabytes are read,
or refused, in bounded memory.

Each case runs the CLI in a child process and compares its peak RSS with max(200 MB, the same command's
peak on a two-line input) + 4 x the input's size as the limit table bounds it: importing numba alone costs
about 150 MB here and loading the training kernels 60 MB more, so a bare 200 MB is below what any training
run needs. The inputs are made here, scaled so that each command runs in a few seconds yet the unbounded
readers needed several times the bound (sizes said with each case).
"""
import gzip
import struct

import numpy as np

from fastemb.base.limits import MAX_LINE_TOKENS, MAX_NGRAM_CHARS, MAX_TOKEN_BYTES, MAX_WORD_NGRAMS
from fastemb.formats.fasttext import _ARGS, FastTextModelFile, write_fasttext

from conftest import assert_one_error_line, run_measured

FLOOR_MB = 200


def bound_mb(size_bytes: int, baseline_mb: float = 0.0) -> float:
    """What a command may use on an input of ``size_bytes`` (as the limit table bounds it)."""
    return max(FLOOR_MB, baseline_mb) + 4 * size_bytes / 2**20


def long_token_corpus(path, n_words: int = 300):
    """``n_words`` distinct words of MAX_TOKEN_BYTES characters, each twice: 600 KB."""
    rng = np.random.default_rng(0)
    words = [bytes(rng.integers(97, 123, MAX_TOKEN_BYTES, dtype=np.uint8)) for _ in range(n_words)]
    path.write_bytes(b"\n".join(b" ".join(words[i:i + 10]) for i in range(0, n_words, 10)) * 2 + b"\n")
    return path


def test_a_huge_maxn_is_refused_in_bounded_memory(tmp_path):
    # 300 words of 1,000 characters: --maxn 1000 made 150 M n-gram ids (600 MB) of a 600 KB corpus.
    corpus = long_token_corpus(tmp_path / "long.txt")
    done, peak_mb = run_measured("skipgram", corpus, "-o", tmp_path / "v.txt", "--maxn", 1000, "--min-count", 1,
                                 "--dim", 8, "--buckets", 1000, "--epochs", 1, "--threads", 1)
    assert_one_error_line(done, "--maxn must be at most", f"{MAX_NGRAM_CHARS}")
    assert peak_mb <= FLOOR_MB, peak_mb


def test_the_memory_check_counts_the_character_ngram_lists(tmp_path, monkeypatch):
    # At the cap a word of 1,000 characters has about 30,000 n-gram ids: 35 MB for these 300 words.
    from fastemb.base import limits
    from fastemb.base.config import Word2VecConfig
    from fastemb.base.errors import FastembError
    from fastemb.training import word2vec
    corpus = long_token_corpus(tmp_path / "long.txt")
    config = Word2VecConfig(min_count=1, dim=8, buckets=1000, maxn=MAX_NGRAM_CHARS, epochs=1, threads=1)
    tables = (2 * 300 + 1000) * 8 * 4
    monkeypatch.setattr(limits, "available_memory", lambda: tables + 2**20)  # the rows fit, the lists do not
    try:
        word2vec.prepare(str(corpus), config)
    except FastembError as exc:
        assert "n-gram lists" in str(exc) and "--maxn" in str(exc)
    else:
        raise AssertionError("the n-gram lists were not counted")


def test_a_crafted_bin_with_a_huge_maxn_is_refused_in_bounded_memory(tmp_path):
    # 150 words of 1,000 characters in a 160 KB .bin whose maxn says 1000: 75 M n-gram ids (300 MB) before.
    rng = np.random.default_rng(1)
    words = ["".join(map(chr, rng.integers(97, 123, MAX_TOKEN_BYTES))) for _ in range(150)]
    model = FastTextModelFile.from_arrays({"dim": 1, "bucket": 10, "minn": 1, "maxn": 6, "model": "sg"}, words,
                                          np.ones(len(words)), [], [], np.ones((len(words) + 10, 1), np.float32),
                                          np.ones((len(words), 1), np.float32))
    path = tmp_path / "crafted.bin"
    write_fasttext(str(path), model)
    data = bytearray(path.read_bytes())
    struct.pack_into("<i", data, 8 + _ARGS.fields["maxn"][1], 1000)  # past the magic and version
    path.write_bytes(bytes(data))
    for command in (["neighbors", path, words[0]], ["vectors", path, "a" * 5000]):
        done, peak_mb = run_measured(*command)
        assert_one_error_line(done, path, "maxn 1,000 is more than", f"{MAX_NGRAM_CHARS}")
        assert peak_mb <= FLOOR_MB, (command[0], peak_mb)
    struct.pack_into("<i", data, 8 + _ARGS.fields["maxn"][1], MAX_NGRAM_CHARS + 1)
    path.write_bytes(bytes(data))
    assert_one_error_line(run_measured("neighbors", path, words[0])[0], path, f"maxn {MAX_NGRAM_CHARS + 1} is")


def test_word_ngrams_past_the_cap_are_refused(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("__label__a x y\n")
    done, _ = run_measured("supervised", path, "-o", tmp_path / "m", "--word-ngrams", MAX_WORD_NGRAMS + 1)
    assert_one_error_line(done, "--word-ngrams must be at most", f"{MAX_WORD_NGRAMS}")


def test_one_huge_line_is_read_in_bounded_memory_by_supervised_predict_and_test(tmp_path):
    # One labelled line of 12 M two-letter tokens (36 MB, a 100 KB .gz): the readers held it whole (about
    # 25 bytes a token, near 800 MB); the limit table keeps its first MAX_LINE_TOKENS tokens (30 KB).
    line = b"__label__a " + b"ab cd ef " * 4_000_000 + b"\n"
    path, small = tmp_path / "one-line.txt.gz", tmp_path / "small.txt.gz"
    path.write_bytes(gzip.compress(line, 1))
    small.write_bytes(gzip.compress(b"__label__a ab cd\n__label__b ef\n"))
    size = min(len(line), MAX_LINE_TOKENS * (MAX_TOKEN_BYTES + 1))
    model = tmp_path / "model.npz"
    train = ["--dim", 8, "--epochs", 1, "--threads", 1]
    baseline = run_measured("supervised", small, "-o", tmp_path / "small.npz", *train)[1]
    done, peak_mb = run_measured("supervised", path, "-o", model, *train)
    assert done.returncode == 0, done.stderr
    assert f"Warning: 1 lines longer than {MAX_LINE_TOKENS:,} tokens were cut" in done.stderr
    assert peak_mb <= bound_mb(size, baseline), ("supervised", peak_mb, baseline)
    for command in ("predict", "test"):
        baseline = run_measured(command, model, small)[1]
        done, peak_mb = run_measured(command, model, path)
        assert done.returncode == 0, done.stderr
        assert peak_mb <= bound_mb(size, baseline), (command, peak_mb, baseline)


def test_a_classifier_on_over_long_tokens_writes_vectors_and_checkpoints_that_load(tmp_path):
    # Both readers (scan for a file, the Python reader for stdin) keep a token's first MAX_TOKEN_BYTES bytes.
    from fastemb.base.config import SupervisedConfig
    from fastemb.models.vectors import load_vectors
    from fastemb.training import supervised
    from fastemb.training.checkpoint import load_checkpoint, save_checkpoint
    from conftest import run_cli
    text = f"__label__a {'x' * 2000} y\n__label__b {'z' * 1500} w\n"
    path = tmp_path / "t.txt"
    path.write_text(text)
    for source, stdin in ((path, None), ("-", text)):
        vectors = tmp_path / "v.txt"
        done = run_cli("supervised", source, "-o", tmp_path / "m", "--vectors", vectors, "--dim", 4, "--epochs", 1,
                       "--threads", 1, input_text=stdin)
        assert done.returncode == 0, done.stderr
        assert f"Warning: 2 tokens longer than {MAX_TOKEN_BYTES:,} bytes were cut" in done.stderr
        words = load_vectors(str(vectors)).words
        assert "x" * MAX_TOKEN_BYTES in words and max(map(len, words)) == MAX_TOKEN_BYTES
    trainer, _ = supervised.prepare(str(path), SupervisedConfig(dim=4, epochs=1, threads=1))
    trainer.run()
    save_checkpoint(str(tmp_path / "run.ckpt"), trainer, {})
    assert "x" * MAX_TOKEN_BYTES in load_checkpoint(str(tmp_path / "run.ckpt"))["words"]


def test_skipgram_on_disk_keeps_the_sentence_offsets_small(tmp_path):
    # 16 M one-word lines (32 MB, a 31 KB .gz): int64 sentence offsets, held two or three times over while
    # reading and encoding, peaked at 526 MB (bound 333 MB); a uint16 length a sentence (text/offsets.py), 290 MB.
    lines = 16_000_000
    path, small = tmp_path / "words.txt.gz", tmp_path / "small.txt.gz"
    path.write_bytes(gzip.compress(b"a\n" * lines, 6))
    small.write_bytes(gzip.compress(b"a b\nb a\n"))
    for flags in (["--on-disk"], ["--max-memory", 0]):
        train = ["--min-count", 1, "--dim", 8, "--epochs", 1, "--threads", 1, *flags]
        baseline = run_measured("skipgram", small, "-o", tmp_path / "small.txt", *train)[1]
        done, peak_mb = run_measured("skipgram", path, "-o", tmp_path / "v.txt", *train)
        assert done.returncode == 0, done.stderr
        assert "Encoded corpus kept on disk" in done.stderr
        assert peak_mb <= bound_mb(2 * lines, baseline), (flags, peak_mb, baseline)
