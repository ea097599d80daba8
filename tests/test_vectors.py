"""Word-vector files (word2vec text/binary, gensim, fastText .vec) and the Vectors search API."""
import bz2
import gzip
import lzma
import os
from pathlib import Path

import numpy as np
import pytest

from fastemb.formats import word2vec as word2vec_format
from fastemb.models import vectors as vectors_module
from fastemb.base.errors import FastembError
from fastemb.models.vectors import Vectors, load_vectors, save_vectors


def random_matrix(rows, dim, seed=0):
    rng = np.random.default_rng(seed)
    matrix = (rng.standard_normal((rows, dim)) * 0.3).astype(np.float32)
    # Values that stress the text format: huge, tiny, subnormal, signed zero, exact integers.
    extremes = np.array([3.4028235e38, -3.4028235e38, 1.1754944e-38, 1e-45, -1e-45, 0.0, -0.0,
                         1e-5, 1e-4, 123456789.0, 1e9, -1.0, 0.1, 1200.0, 99999.99], dtype=np.float32)
    flat = matrix.ravel()
    flat[:len(extremes)] = extremes
    return matrix


def write(path, text, newline="\n"):
    data = text.replace("\n", newline).encode("utf-8") if isinstance(text, str) else text
    path.write_bytes(data)
    return str(path)


def gensim_keyed_vectors(words, matrix):
    gensim_models = pytest.importorskip("gensim.models")
    keyed = gensim_models.KeyedVectors(vector_size=matrix.shape[1])
    keyed.add_vectors(words, matrix)
    return keyed


WORDS = [f"w{i}" for i in range(40)] + ["naïve", "日本語", "a-b_c", "ß"]


# --- round trips ---------------------------------------------------------------------------------

@pytest.mark.parametrize("binary", [False, True])
def test_save_then_load_round_trips_every_bit(tmp_path, binary):
    matrix = random_matrix(len(WORDS), 17)
    path = str(tmp_path / "vectors.out")
    save_vectors(path, WORDS, matrix, binary=binary)
    loaded = load_vectors(path)
    assert loaded.words == WORDS
    assert loaded.matrix.dtype == np.float32 and loaded.matrix.flags.c_contiguous
    assert np.array_equal(loaded.matrix.view(np.uint32), matrix.view(np.uint32))  # even -0.0 survives


def test_text_round_trips_random_float32_bit_patterns(tmp_path):
    rng = np.random.default_rng(1)
    values = rng.integers(0, 2 ** 32, size=50_000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    values = values[np.isfinite(values)][:40_000].reshape(-1, 40)
    words = [f"w{i}" for i in range(len(values))]
    path = str(tmp_path / "bits.txt")
    save_vectors(path, words, values)
    assert np.array_equal(load_vectors(path).matrix.view(np.uint32), values.view(np.uint32))


def test_text_format_matches_python_percent_9g(tmp_path):
    matrix = random_matrix(3, 15)
    path = tmp_path / "vectors.txt"
    save_vectors(str(path), ["a", "b", "c"], matrix)
    lines = path.read_text().split("\n")
    assert lines[0] == "3 15" and lines[-1] == ""
    for word, line, row in zip("abc", lines[1:], matrix):
        assert line == word + " " + " ".join("%.9g" % value for value in row.tolist())


def test_binary_layout_is_word2vec_c(tmp_path):
    matrix = np.array([[1.5, -2.0], [0.25, 8.0]], dtype=np.float32)
    path = tmp_path / "vectors.bin"
    save_vectors(str(path), ["x", "é"], matrix, binary=True)
    expected = (b"2 2\n" + b"x " + matrix[0].astype("<f4").tobytes() + b"\n"
                + "é ".encode() + matrix[1].astype("<f4").tobytes() + b"\n")
    assert path.read_bytes() == expected


def test_vectors_save_method(tmp_path):
    vectors = Vectors(["a", "b"], np.eye(2, dtype=np.float32))
    vectors.save(str(tmp_path / "v.bin"), binary=True)
    assert load_vectors(str(tmp_path / "v.bin")).words == ["a", "b"]


# --- other tools' files ----------------------------------------------------------------------------

@pytest.mark.parametrize("binary", [False, True])
def test_gensim_loads_our_files_identically(tmp_path, binary):
    gensim_models = pytest.importorskip("gensim.models")
    matrix = random_matrix(len(WORDS), 11, seed=3)
    path = str(tmp_path / "ours")
    save_vectors(path, WORDS, matrix, binary=binary)
    keyed = gensim_models.KeyedVectors.load_word2vec_format(path, binary=binary)
    assert keyed.index_to_key == WORDS
    assert np.array_equal(keyed.vectors.view(np.uint32), matrix.view(np.uint32))


@pytest.mark.parametrize("binary", [False, True])
def test_we_load_gensim_files_identically(tmp_path, binary):
    matrix = random_matrix(len(WORDS), 13, seed=4)
    path = str(tmp_path / "gensim")
    gensim_keyed_vectors(WORDS, matrix).save_word2vec_format(path, binary=binary)
    for detect in (None, binary):
        loaded = load_vectors(path, binary=detect)
        assert loaded.words == WORDS
        assert np.array_equal(loaded.matrix.view(np.uint32), matrix.view(np.uint32))


def test_fasttext_vec_with_trailing_spaces(tmp_path):
    path = write(tmp_path / "wiki.vec", "2 3 \nthe 0.1 -0.2 0.3 \n, 1e-3 2 -4.5 \n")
    loaded = load_vectors(path)
    assert loaded.words == ["the", ","]
    assert np.array_equal(loaded.matrix, np.array([[0.1, -0.2, 0.3], [1e-3, 2, -4.5]], dtype=np.float32))


def test_windows_line_endings_and_missing_final_newline(tmp_path):
    crlf = load_vectors(write(tmp_path / "crlf.txt", "2 2\na 1 2\nb 3 4\n", newline="\r\n"))
    unterminated = load_vectors(write(tmp_path / "open.txt", "2 2\na 1 2\nb 3 4"))
    for loaded in (crlf, unterminated):
        assert loaded.words == ["a", "b"]
        assert np.array_equal(loaded.matrix, [[1, 2], [3, 4]])


def test_blank_lines_are_skipped_but_counted(tmp_path):
    path = write(tmp_path / "blank.txt", "2 2\n\na 1 2\n\nb 3 4\n\n\n")
    assert load_vectors(path).words == ["a", "b"]
    bad = write(tmp_path / "blank_bad.txt", "2 2\n\na 1 2\n\nb 3\n")
    with pytest.raises(FastembError, match=r"line 5: expected 2 values"):
        load_vectors(bad)


@pytest.mark.parametrize("opener, suffix", [(gzip.open, ".gz"), (bz2.open, ".bz2"), (lzma.open, ".xz")])
@pytest.mark.parametrize("binary", [False, True])
def test_compressed_files_load(tmp_path, opener, suffix, binary):
    matrix = random_matrix(len(WORDS), 5, seed=5)
    plain = tmp_path / "plain"
    save_vectors(str(plain), WORDS, matrix, binary=binary)
    packed = tmp_path / ("vectors" + suffix)
    with opener(packed, "wb") as handle:
        handle.write(plain.read_bytes())
    loaded = load_vectors(str(packed))
    assert loaded.words == WORDS and np.array_equal(loaded.matrix, matrix)


def test_invalid_utf8_word_is_replaced_not_fatal(tmp_path):
    path = write(tmp_path / "latin1.txt", b"2 1\ncaf\xe9 1\nok 2\n")
    assert load_vectors(path).words == ["caf\ufffd", "ok"]


@pytest.mark.parametrize("binary", [False, True])
def test_limit_keeps_the_first_words(tmp_path, binary):
    matrix = random_matrix(len(WORDS), 6, seed=6)
    path = str(tmp_path / "v")
    save_vectors(path, WORDS, matrix, binary=binary)
    loaded = load_vectors(path, limit=5)
    assert loaded.words == WORDS[:5] and np.array_equal(loaded.matrix, matrix[:5])
    assert len(load_vectors(path, limit=10_000)) == len(WORDS)


def test_limit_does_not_read_past_the_rows_it_keeps(tmp_path):
    path = write(tmp_path / "v.txt", "3 1\na 1\nb 2\nc not-a-number\n")
    assert load_vectors(path, limit=2).words == ["a", "b"]


# --- malformed files ---------------------------------------------------------------------------------

TEXT_ERRORS = [
    ("", r"file is empty"),
    ("hello world\na 1\n", r"line 1: header must be two integers 'count dim', found 'hello world'"),
    ("the 0.1 0.2\n", r"line 1: header must be two integers .*GloVe"),
    ("0 3\n", r"line 1: .*both must be positive"),
    ("2 -3\n", r"line 1: .*both must be positive"),
    ("3 2\na 1 2\nb 1\nc 1 2\n", r"line 3: expected 2 values after the word, found 1"),
    ("2 2\na 1 2\nb 1 2 3\n", r"line 3: expected 2 values after the word, found 3"),
    ("3 2\na 1 2\nb 1 abc\nc 1 2\n", r"line 3: 'abc' is not a number"),
    ("3 2\na 1 2\nb 1 2\nc nan 2\n", r"line 4: NaN or infinite value"),
    ("2 2\na inf 2\nb 1 2\n", r"line 2: NaN or infinite value"),
    ("2 2\na 1e39 2\nb 1 2\n", r"line 2: NaN or infinite value"),
    ("4 2\na 1 2\nb 1 2\n", r"file has 2 vector rows but the header says 4"),
    ("2 2\na 1 2\nb 1 2\nc 1 2\n", r"line 4: more rows than the 2 the header declares"),
    ("3 2\na 1 2\nb 1 2\na 3 4\n", r"line 4: duplicate word 'a' \(first at line 2\)"),
]


@pytest.mark.parametrize("content, message", TEXT_ERRORS)
def test_malformed_text_names_file_and_line(tmp_path, content, message):
    path = write(tmp_path / "vectors.txt", content)
    with pytest.raises(FastembError, match=message) as error:
        load_vectors(path)
    assert str(error.value).startswith(path + ": ")


def test_error_line_numbers_hold_deep_into_a_large_file(tmp_path):
    rows = [f"w{i} {i} {i}" for i in range(30_000)]
    rows[25_000] = "broken 1"
    path = write(tmp_path / "big.txt", "30000 2\n" + "\n".join(rows) + "\n")
    with pytest.raises(FastembError, match=r"line 25002: expected 2 values"):
        load_vectors(path)


def binary_record(word, values):
    return word.encode() + b" " + np.asarray(values, dtype="<f4").tobytes() + b"\n"


BINARY_ERRORS = [
    (b"3 2\n" + binary_record("a", [1, 2]) + binary_record("b", [3, 4]) + b"c \x00\x00\x80",
     r"record 3: binary file truncated in the vector of 'c': expected 8 bytes, found 3"),
    (b"3 2\n" + binary_record("a", [1, 2]) + b"bb", r"record 2: .*truncated inside the word"),
    (b"3 2\n" + binary_record("a", [1, 2]) + binary_record("b", [3, 4]),
     r"file has 2 vector records but the header says 3"),
    (b"1 2\n" + binary_record("a", [1, 2]) + binary_record("b", [3, 4]),
     r"record 2: more records than the 1 the header declares"),
    (b"2 2\n" + binary_record("a", [1, 2]) + binary_record("b", [np.nan, 4]), r"record 2: NaN or infinite"),
    (b"2 2\n" + binary_record("a", [1, 2]) + binary_record("a", [3, 4]),
     r"record 2: duplicate word 'a' \(first at record 1\)"),
]


@pytest.mark.parametrize("content, message", BINARY_ERRORS)
def test_malformed_binary_names_the_record(tmp_path, content, message):
    path = write(tmp_path / "vectors.bin", content)
    with pytest.raises(FastembError, match=message):
        load_vectors(path, binary=True)
    compressed = tmp_path / "vectors.bin.gz"  # read record by record, not by the block scanner
    compressed.write_bytes(gzip.compress(content))
    with pytest.raises(FastembError, match=message):
        load_vectors(str(compressed), binary=True)


def test_the_block_scanner_reads_what_the_record_reader_reads(tmp_path, monkeypatch):
    """Records cut at every kind of place by small blocks, multi-byte words, separators gensim and
    word2vec C write, and a word holding a newline (which sends the file to the record reader)."""
    monkeypatch.setattr(word2vec_format, "_BINARY_BLOCK_BYTES", 1)  # the smallest block that holds a record
    rng = np.random.default_rng(5)
    words = [f"{'wörter'[: 1 + i % 6]}{i}" for i in range(3_000)]
    matrix = rng.standard_normal((len(words), 7)).astype(np.float32)
    separators = [b"\n", b"", b" \n\t"]
    content = f"{len(words)} 7\n".encode() + b"".join(
        word.encode() + b" " + row.astype("<f4").tobytes() + separators[i % 3] for i, (word, row) in
        enumerate(zip(words, matrix)))
    for with_newline_word in (False, True):
        if with_newline_word:
            content = content.replace("wör2 ".encode(), "w\nr2 ".encode(), 1)
        path = write(tmp_path / "vectors.bin", content)
        (tmp_path / "vectors.bin.gz").write_bytes(gzip.compress(content))
        scanned, streamed = load_vectors(path, binary=True), load_vectors(str(tmp_path / "vectors.bin.gz"))
        assert scanned.words == streamed.words and np.array_equal(scanned.matrix, streamed.matrix)
        assert ("w\nr2" in scanned.words) == with_newline_word and np.array_equal(scanned.matrix, matrix)


def test_missing_file_and_corrupt_compression_are_fastemb_errors(tmp_path):
    with pytest.raises(FastembError, match="no such file"):
        load_vectors(str(tmp_path / "absent.txt"))
    good = gzip.compress(b"2 2\na 1 2\nb 3 4\n" * 100)
    path = write(tmp_path / "cut.txt.gz", good[:len(good) // 2])
    with pytest.raises(FastembError, match="cut.txt.gz"):
        load_vectors(path)


# --- atomic saving -----------------------------------------------------------------------------------

def assert_untouched(directory, path, before):
    assert Path(path).read_bytes() == before
    assert sorted(os.listdir(directory)) == [os.path.basename(path)]


@pytest.mark.parametrize("binary", [False, True])
def test_failure_mid_write_keeps_the_old_file(tmp_path, monkeypatch, binary):
    path = str(tmp_path / "vectors.out")
    save_vectors(path, ["old"], np.ones((1, 4), dtype=np.float32), binary=binary)
    before = Path(path).read_bytes()
    calls = []

    def fail_on_second_block(block):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk on fire")
        return real(block)

    name = "_binary_rows" if binary else "_format_rows"
    real = getattr(word2vec_format, name)
    monkeypatch.setattr(word2vec_format, name, fail_on_second_block)
    monkeypatch.setattr(word2vec_format, "_SAVE_BLOCK_VALUES", 8)
    with pytest.raises(RuntimeError, match="disk on fire"):
        save_vectors(path, WORDS, random_matrix(len(WORDS), 4), binary=binary)
    assert_untouched(tmp_path, path, before)


def test_os_error_during_write_becomes_fastemb_error_and_keeps_the_old_file(tmp_path, monkeypatch):
    path = str(tmp_path / "vectors.txt")
    save_vectors(path, ["old"], np.ones((1, 4), dtype=np.float32))
    before = Path(path).read_bytes()

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(FastembError, match="No space left"):
        save_vectors(path, WORDS, random_matrix(len(WORDS), 4))
    assert_untouched(tmp_path, path, before)


@pytest.mark.parametrize("words, matrix, message", [
    (["ok", "new york"], np.ones((2, 3)), r"word 2 \('new york'\)"),
    (["ok", "tab\there"], np.ones((2, 3)), r"word 2"),
    (["", "ok"], np.ones((2, 3)), r"word 1 \(''\)"),
    (["ok", "bad"], np.array([[1, 2, 3], [1, np.nan, 3]]), r"'bad' contains NaN"),
    (["a", "b"], np.ones((3, 3)), r"shape \(3, 3\) for 2 words"),
])
def test_unwritable_input_is_refused_before_touching_the_file(tmp_path, words, matrix, message):
    path = str(tmp_path / "vectors.txt")
    save_vectors(path, ["old"], np.ones((1, 3), dtype=np.float32))
    before = Path(path).read_bytes()
    with pytest.raises(FastembError, match=message):
        save_vectors(path, words, matrix)
    assert_untouched(tmp_path, path, before)


# --- the Vectors object and search ------------------------------------------------------------------

@pytest.fixture
def toy():
    words = ["king", "queen", "man", "woman", "apple", "zero"]
    matrix = np.array([
        [1.0, 1.0, 0.0],   # king   = royal + male
        [1.0, 0.0, 1.0],   # queen  = royal + female
        [0.0, 1.0, 0.0],   # man
        [0.0, 0.0, 1.0],   # woman
        [-1.0, 0.1, 0.1],  # apple: unrelated
        [0.0, 0.0, 0.0],   # a zero vector must not poison anything with NaN
    ], dtype=np.float32)
    return Vectors(words, matrix)


def test_mapping_api(toy):
    assert len(toy) == 6 and toy.dim == 3 and "queen" in toy and "prince" not in toy
    assert toy.index["man"] == 2 and toy.words[2] == "man"
    assert np.array_equal(toy["queen"], [1, 0, 1])
    with pytest.raises(KeyError, match="'prince' is not in the vocabulary"):
        toy["prince"]


def test_similarity_is_cosine(toy):
    assert toy.similarity("king", "man") == pytest.approx(1 / np.sqrt(2))
    assert toy.similarity("man", "woman") == pytest.approx(0.0)
    assert toy.similarity("zero", "king") == 0.0


def test_most_similar_excludes_the_query_and_sorts_by_cosine(toy):
    found = toy.most_similar("king", topn=3)
    assert [word for word, _ in found] == ["man", "queen", "woman"]
    assert found[0][1] == pytest.approx(1 / np.sqrt(2))
    assert found[1][1] == pytest.approx(0.5)
    assert toy.most_similar(["king"], topn=3) == found


def test_analogy_man_king_woman_is_queen(toy):
    assert toy.analogy("man", "king", "woman", topn=1)[0][0] == "queen"
    assert toy.most_similar(positive=["king", "woman"], negative=["man"], topn=1)[0][0] == "queen"


def test_restrict_searches_only_the_most_frequent_words(toy):
    assert [word for word, _ in toy.most_similar("king", topn=10, restrict=2)] == ["queen"]
    assert toy.most_similar("king", restrict=0) == []


def test_nearest_to_an_arbitrary_vector(toy):
    found = toy.nearest(np.array([0.0, 0.0, 5.0]), topn=2)
    assert found[0] == ("woman", pytest.approx(1.0))
    assert toy.nearest([0.0, 0.0, 5.0], topn=2, exclude=["woman", "absent"])[0][0] == "queen"
    with pytest.raises(ValueError, match="shape"):
        toy.nearest(np.zeros(4))


def test_zero_vectors_give_no_nan(toy):
    assert not np.isnan(toy.unit_matrix).any()
    found = toy.most_similar("zero", topn=10)
    assert len(found) == 5 and all(score == 0.0 for _, score in found)
    assert all(np.isfinite(score) for _, score in toy.most_similar("king", topn=10))


def words_of(found):
    return [word for word, _ in found]


def test_block_search_equals_single_block(monkeypatch):
    vectors = Vectors([f"w{i}" for i in range(500)], random_matrix(500, 8, seed=7))
    whole = vectors.most_similar(["w3", "w9"], negative="w4", topn=25)
    everything = vectors.most_similar("w3", topn=500)
    monkeypatch.setattr(vectors_module, "_SEARCH_BLOCK_ROWS", 7)
    blocked = vectors.most_similar(["w3", "w9"], negative="w4", topn=25)
    assert words_of(blocked) == words_of(whole)
    assert np.allclose([s for _, s in blocked], [s for _, s in whole], atol=1e-6)
    restricted = vectors.most_similar("w3", topn=25, restrict=100)
    assert words_of(restricted) == [word for word in words_of(everything) if int(word[1:]) < 100][:25]


def test_huge_components_do_not_overflow_the_norm():
    vectors = Vectors(["big", "small"], np.array([[3e38, 3e38], [1e-3, 1e-3]], dtype=np.float32))
    assert vectors.similarity("big", "small") == pytest.approx(1.0)


def test_most_similar_agrees_with_gensim():
    matrix = np.random.default_rng(8).standard_normal((2000, 50)).astype(np.float32)
    words = [f"w{i}" for i in range(2000)]
    ours = Vectors(words, matrix)
    keyed = gensim_keyed_vectors(words, matrix)
    for positive, negative, restrict in [(["w0"], [], None), (["w5", "w17"], ["w99"], None), (["w1999"], [], 500)]:
        theirs = keyed.most_similar(positive=positive, negative=negative, topn=10, restrict_vocab=restrict)
        mine = ours.most_similar(positive, topn=10, negative=negative, restrict=restrict)
        assert words_of(mine) == words_of(theirs)
        assert np.allclose([s for _, s in mine], [s for _, s in theirs], atol=1e-5)
    assert ours.similarity("w1", "w2") == pytest.approx(keyed.similarity("w1", "w2"), abs=1e-6)


def test_constructor_validates_shape_and_uniqueness():
    with pytest.raises(ValueError, match="one row per word"):
        Vectors(["a"], np.zeros((2, 3)))
    with pytest.raises(ValueError, match="unique"):
        Vectors(["a", "a"], np.zeros((2, 3)))
