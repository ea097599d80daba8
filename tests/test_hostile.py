"""Hostile corpora and vector files: a counted warning or one clear error, never a crash."""
import numpy as np
import pytest

from fastemb.text import corpus
from fastemb.training import word2vec
from fastemb.base.config import Word2VecConfig
from fastemb.base.errors import FastembError
from fastemb.models.vectors import load_vectors, save_vectors

from conftest import run_cli

PIECES = [b"word", b"caf\xc3\xa9", b"\xff\xfe", b"\x00", b" ", b"\t", b"\n", b"\r\n", b"\xe2\x82", b"x" * 1500,
          b"\x0b", b"\x1f\x8b", b"42", b"\xf0\x9f\x98\x80", b"  \n\n"]


def _hostile_bytes(rng, n):
    return b"".join(PIECES[i] for i in rng.integers(len(PIECES), size=n))


@pytest.mark.parametrize("seed", range(12))
def test_random_hostile_corpora_train_or_fail_cleanly(tmp_path, seed):
    rng = np.random.default_rng(seed)
    path = tmp_path / "hostile.txt"
    path.write_bytes(_hostile_bytes(rng, int(rng.integers(0, 400))))
    config = Word2VecConfig(dim=8, epochs=1, min_count=1, threads=1)
    try:
        model = word2vec.train_word2vec(str(path), config)
    except FastembError as exc:
        assert "empty" in str(exc) or "min-count" in str(exc)
        return
    assert all(len(word.encode("utf-8", "surrogatepass")) <= 3 * corpus.MAX_TOKEN_BYTES for word in model.vocab.words)
    assert all(not any(ch in word for ch in " \t\n\r\x00") for word in model.vocab.words)
    out = tmp_path / "v.txt"
    model.save_vectors(str(out))  # every word survives the word2vec format
    assert load_vectors(str(out)).words == model.vocab.words


def test_over_long_tokens_are_cut_and_counted(tmp_path):
    path = tmp_path / "long_token.txt"
    path.write_bytes(b"a " + b"y" * 5000 + b" b\n" + b"y" * 1200 + b"\n")
    raw = corpus.scan(str(path))
    assert raw.truncated == 2 and max(len(w) for w in raw.words) == corpus.MAX_TOKEN_BYTES
    done = run_cli("skipgram", path, "-o", tmp_path / "v.txt", "--min-count", "1", "--dim", "4", "--epochs", "1")
    assert done.returncode == 0 and "Warning: 2 tokens longer than 1,000 bytes were cut" in done.stderr


def test_only_whitespace_and_nul_bytes_is_an_empty_corpus(tmp_path):
    path = tmp_path / "blank.txt"
    path.write_bytes(b" \t\n\x00\r\n\x0b\x0c  \n" * 100)
    done = run_cli("skipgram", path, "-o", tmp_path / "v.txt")
    assert done.returncode == 1 and "the corpus is empty" in done.stderr and "Traceback" not in done.stderr


def test_a_single_huge_line_without_newline_is_read_in_sentences(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus, "BLOCK_BYTES", 1 << 12)
    path = tmp_path / "one_line.txt"
    path.write_bytes(b" ".join(b"w%d" % (i % 97) for i in range(60_000)))  # no newline at all
    raw = corpus.scan(str(path))
    assert raw.n_tokens == 60_000 and raw.lines == 1 and np.all(np.diff(raw.offsets) <= corpus.MAX_SENTENCE)


@pytest.mark.parametrize("seed", range(25))
def test_corrupted_vector_files_load_or_fail_with_a_clear_error(tmp_path, seed):
    rng = np.random.default_rng(seed)
    good = tmp_path / "good.txt"
    binary = bool(seed % 2)
    save_vectors(str(good), [f"w{i}" for i in range(20)], rng.standard_normal((20, 6)).astype(np.float32), binary=binary)
    data = bytearray(good.read_bytes())
    for _ in range(int(rng.integers(1, 6))):
        kind = rng.integers(4)
        at = int(rng.integers(len(data)))
        if kind == 0:
            data[at] = int(rng.integers(256))
        elif kind == 1:
            del data[at:at + int(rng.integers(1, 40))]
        elif kind == 2:
            data[at:at] = PIECES[int(rng.integers(len(PIECES)))]
        else:
            data = data[:at]
    bad = tmp_path / "bad.bin"
    bad.write_bytes(bytes(data))
    try:
        vectors = load_vectors(str(bad))
    except FastembError as exc:
        assert "bad.bin" in str(exc)
        return
    assert np.all(np.isfinite(vectors.matrix)) and vectors.matrix.shape[0] == len(vectors.words)


@pytest.mark.parametrize("content,where", [
    ("2 3\r\na 1 2 3\r\nb 1 2\r\n", "line 3"),
    ("2 3\na 1 2 3\nb 1 nan 3\n", "line 3"),
    ("2 3\na 1 2 3\nb 1 inf 3\n", "line 3"),
    ("3 3\na 1 2 3\nb 1 2 3", "header says 3"),
])
def test_vector_file_errors_name_the_line(tmp_path, content, where):
    path = tmp_path / "v.txt"
    with open(path, "w", newline="") as handle:  # keep the \r\n as written
        handle.write(content)
    done = run_cli("neighbors", path, "a")
    assert done.returncode == 1 and done.stderr.startswith("Error: ") and where in done.stderr, done.stderr
