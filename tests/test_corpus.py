"""Reading, counting and encoding a corpus."""
import bz2
import gzip
import lzma

import numpy as np
import pytest

from fastemb.text import corpus, offsets
from fastemb.base.errors import FastembError
from fastemb.text.vocab import Vocab

TEXT = "the cat sat\nthe dog sat\n\n  the cat ran  \n"


@pytest.mark.parametrize("suffix,opener", [("", open), (".gz", gzip.open), (".bz2", bz2.open), (".xz", lzma.open)])
def test_plain_and_compressed_files_read_the_same(tmp_path, suffix, opener):
    path = tmp_path / f"c.txt{suffix}"
    with opener(path, "wb") as handle:
        handle.write(TEXT.encode())
    raw = corpus.scan(str(path))
    assert list(raw.words) == ["the", "cat", "sat", "dog", "ran"]
    assert raw.counts.tolist() == [3, 2, 2, 1, 1]
    assert np.asarray(raw.offsets).tolist() == [0, 3, 6, 9]
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


@pytest.mark.parametrize("step", [4, offsets.STEP])
def test_compact_offsets_read_as_the_int64_offsets(monkeypatch, step):
    monkeypatch.setattr(offsets, "STEP", step)  # small blocks: every path crosses block bounds
    rng = np.random.default_rng(0)
    for n in (0, 1, step - 1, step, step + 1, 3 * step + 2):
        lengths = rng.integers(0, 4, n).astype(np.uint16)  # 0: a classifier's example may have no words
        expected = np.concatenate(([0], np.cumsum(lengths, dtype=np.int64)))
        compact = offsets.Offsets(lengths)
        assert len(compact) == len(expected) and compact[-1] == expected[-1] and compact[0] == 0
        assert np.array_equal(np.asarray(compact), expected)
        assert np.array_equal(np.concatenate(list(compact.pieces())), expected)
        at = rng.integers(0, len(expected), 50)
        assert np.array_equal(compact[at], expected[at]) and compact[len(expected) // 2] == expected[len(expected) // 2]
        for first, last in ((0, len(expected)), (1, 1), (step - 1, step + 2), (len(expected) - 1, len(expected))):
            assert np.array_equal(compact[first:last], expected[first:last])
        values = np.sort(rng.integers(-1, int(expected[-1]) + 2, 100))
        for side in ("left", "right"):
            assert np.array_equal(compact.searchsorted(values, side), expected.searchsorted(values, side))


def test_dropped_tokens_shorten_their_sentences_in_memory_and_on_disk(tmp_path, monkeypatch):
    monkeypatch.setattr(offsets, "STEP", 4)
    rng = np.random.default_rng(1)
    lines = [" ".join(rng.choice(["a", "b", "rare"], size=rng.integers(1, 5), p=[0.4, 0.3, 0.3]))
             for _ in range(200)]
    path = tmp_path / "c.txt"
    path.write_text("\n".join(lines) + "\n")
    raw = corpus.scan(str(path))
    remap = np.array([{"a": 0, "b": 1}.get(word, -1) for word in raw.words], np.int32)
    kept = [[word for word in line.split() if word != "rare"] for line in lines]
    expected = np.cumsum([0] + [len(words) for words in kept if words])
    in_memory = corpus.encode(raw, remap)
    on_disk = corpus.encode(raw, remap, str(tmp_path / "c.int32"))
    assert np.array_equal(in_memory.offsets, expected) and np.array_equal(np.asarray(on_disk.offsets), expected)
    assert in_memory.tokens.tolist() == [0 if word == "a" else 1 for words in kept for word in words]
    assert np.array_equal(np.concatenate(list(on_disk.token_blocks())), in_memory.tokens)


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


def _rare_and_common(path, lines=300):
    # "the" and "cat" on every line; every other word is seen once or twice.
    text = "".join(f"the w{i} cat w{i // 2}x\n" for i in range(lines))
    path.write_text(text)
    return text


@pytest.mark.parametrize("spill", [False, True])
def test_max_words_prunes_rare_words_as_reducevocab_and_keeps_the_frequent_ones(tmp_path, monkeypatch, spill):
    monkeypatch.setattr(corpus, "BLOCK_BYTES", 256)  # many blocks: words are forgotten, then seen again
    text = _rare_and_common(tmp_path / "c.txt")
    full = corpus.scan(str(tmp_path / "c.txt"))
    budget = 0 if spill else float("inf")
    raw = corpus.scan(str(tmp_path / "c.txt"), memory_budget=budget, spill_dir=str(tmp_path), max_words=40)
    assert raw.pruned >= 2 and raw.prune_threshold >= 1
    assert len(raw.words) < len(full.words)
    words = list(raw.words)
    for common in ("the", "cat"):  # never pruned: their counts are exact
        assert raw.counts[words.index(common)] == text.split().count(common)
    vocab, remap = Vocab.build(words, raw.counts, min_count=100)
    encoded = corpus.encode(raw, remap, str(tmp_path / "cache.int32") if spill else None)
    tokens = encoded.tokens if not spill else np.fromfile(encoded.path, dtype=np.int32)
    assert [vocab.words[i] for i in tokens] == ["the", "cat"] * 300  # pruned tokens are out of vocabulary
    assert encoded.pruned == (raw.pruned, raw.prune_threshold)
    assert not list(tmp_path.glob("*.renumbered")) and (not spill or raw.spill is not None)


def test_max_words_is_reported_by_the_cli(tmp_path):
    import json
    import subprocess
    import sys
    _rare_and_common(tmp_path / "c.txt", lines=3000)
    done = subprocess.run([sys.executable, "-m", "fastemb.cli", "skipgram", str(tmp_path / "c.txt"), "-o",
                           str(tmp_path / "v.txt"), "--max-words", "100", "--min-count", "1", "--epochs", "1",
                           "--threads", "1", "--dim", "8", "--report", str(tmp_path / "r.json")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Warning: the word counts passed --max-words 100 distinct words and were pruned" in done.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["count_prunes"] >= 1 and report["vocab_size"] <= 100


def test_several_files_are_one_corpus_and_each_file_ends_a_line(tmp_path):
    first, second = tmp_path / "a.txt", tmp_path / "b.txt.gz"
    first.write_text("the cat sat\nthe dog")  # no final newline: "the dog" stays a sentence of its own
    with gzip.open(second, "wb") as handle:
        handle.write(b"ran the\n")
    raw = corpus.scan([str(first), second])
    assert list(raw.words) == ["the", "cat", "sat", "dog", "ran"]
    assert np.asarray(raw.offsets).tolist() == [0, 3, 5, 7] and raw.lines == 3
    assert raw.counts.tolist() == [3, 1, 1, 1, 1]
    with pytest.raises(FastembError, match="missing.txt: no such file"):
        corpus.scan([str(first), str(tmp_path / "missing.txt")])
    with pytest.raises(FastembError, match="no input file"):
        corpus.scan([])


def test_train_word2vec_takes_a_list_of_paths_as_one_corpus(tmp_path):
    from fastemb.base.config import Word2VecConfig
    from fastemb.training.word2vec import train_word2vec
    rng = np.random.default_rng(3)
    lines = [" ".join(rng.choice([f"w{i}" for i in range(30)], size=10)) + "\n" for _ in range(400)]
    whole, first, second = tmp_path / "whole.txt", tmp_path / "a.txt", tmp_path / "b.txt.gz"
    whole.write_text("".join(lines))
    first.write_text("".join(lines[:150]))
    with gzip.open(second, "wt") as handle:
        handle.write("".join(lines[150:]))
    config = dict(dim=8, epochs=1, min_count=1, threads=1, seed=4)
    expected = train_word2vec(str(whole), Word2VecConfig(**config))
    got = train_word2vec([first, str(second)], Word2VecConfig(**config))
    assert got.vocab.words == expected.vocab.words
    assert np.array_equal(got.input_rows, expected.input_rows)
    assert got.report["tokens_read"] == 4000
