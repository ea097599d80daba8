"""Reading, counting and encoding a corpus."""
import bz2
import gzip
import lzma

import numpy as np
import pytest

from fastemb import corpus
from fastemb.errors import FastembError
from fastemb.vocab import Vocab

TEXT = "the cat sat\nthe dog sat\n\n  the cat ran  \n"


@pytest.mark.parametrize("suffix,opener", [("", open), (".gz", gzip.open), (".bz2", bz2.open), (".xz", lzma.open)])
def test_plain_and_compressed_files_read_the_same(tmp_path, suffix, opener):
    path = tmp_path / f"c.txt{suffix}"
    with opener(path, "wb") as handle:
        handle.write(TEXT.encode())
    raw = corpus.scan(str(path))
    assert list(raw.words) == ["the", "cat", "sat", "dog", "ran"]
    assert raw.counts.tolist() == [3, 2, 2, 1, 1]
    assert raw.offsets.tolist() == [0, 3, 6, 9]
    assert raw.lines == 3


def test_vocabulary_sorts_by_count_then_first_occurrence_and_cuts():
    vocab, remap = Vocab.build(["b", "a", "c", "d"], np.array([2, 5, 2, 1]), min_count=2)
    assert vocab.words == ["a", "b", "c"]
    assert remap.tolist() == [1, 0, 2, -1]
    vocab, _ = Vocab.build(["b", "a", "c", "d"], np.array([2, 5, 2, 1]), min_count=1, max_vocab=2)
    assert vocab.words == ["a", "b"]
    with pytest.raises(FastembError, match="min-count"):
        Vocab.build(["a"], np.array([1]), min_count=5)


def test_out_of_vocabulary_tokens_are_dropped_before_windowing(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("a rare b\nrare2 rare3\na b a\n")
    raw = corpus.scan(str(path))
    vocab, remap = Vocab.build(raw.words, raw.counts, min_count=2)
    encoded = corpus.encode(raw, remap)
    assert [vocab.words[i] for i in encoded.tokens] == ["a", "b", "a", "b", "a"]
    assert encoded.offsets.tolist() == [0, 2, 5]  # the all-rare line vanished; "a b" are now adjacent


def test_long_lines_become_10000_token_sentences(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus, "BLOCK_BYTES", 4096)  # force a single line across many read blocks
    path = tmp_path / "long.txt"
    path.write_text(" ".join(f"w{i % 50}" for i in range(25_003)) + "\nshort line\n" + "x " * 3)
    raw = corpus.scan(str(path))
    assert raw.n_tokens == 25_003 + 2 + 3
    assert np.diff(raw.offsets).tolist() == [10_000, 10_000, 5_003, 2, 3]
    assert raw.counts[list(raw.words).index("w7")] == len(range(7, 25_003, 50))


def test_invalid_utf8_is_replaced_not_fatal(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"caf\xe9 ok\n\xff\xfe ok\n")
    raw = corpus.scan(str(path))
    assert "ok" in raw.words and raw.n_tokens == 4
    assert any("\ufffd" in w for w in raw.words)


def test_unreadable_inputs_are_clear_errors(tmp_path):
    with pytest.raises(FastembError, match="no such file"):
        corpus.scan(str(tmp_path / "missing.txt"))
    with pytest.raises(FastembError, match="directory"):
        corpus.scan(str(tmp_path))
    broken = tmp_path / "broken.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(FastembError, match="broken.gz"):
        corpus.scan(str(broken))


def test_byte_strings_that_decode_alike_are_one_word(tmp_path):
    # \xff and \xfe are each invalid UTF-8 (both read as U+FFFD); a token cut inside a
    # character must not count as valid either.
    path = tmp_path / "c.txt"
    path.write_bytes(b"ab\xff ab\xfe ab\xff caf\xc3\xa9 caf\xc3\xa9\n")
    raw = corpus.scan(str(path))
    assert list(raw.words) == ["ab\ufffd", "caf\u00e9"]
    assert raw.counts.tolist() == [3, 2]
    assert raw.ids.tolist() == [0, 0, 0, 1, 1]
    assert corpus.WordTable(b"ab\xc3\xa9", np.array([0, 3, 4])).texts_distinct() is False  # split character
    assert corpus.WordTable("abé".encode(), np.array([0, 2, 4])).texts_distinct() is True
