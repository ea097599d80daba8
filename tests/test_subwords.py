"""fastText's character n-grams: the rows of every word equal the ids of fastText's own get_subwords."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import train_fasttext
from fastemb.text.corpus import WordTable
from fastemb.base.errors import FastembError
from fastemb.base.config import SubwordSettings
from fastemb.kernels.subwords import mean_rows
from fastemb.text.subwords import vocabulary_subword_rows, word_subword_rows

VOCABULARY = ["cat", "cats", "running", "café", "naïve", "größe", "日本語", "東京", "😀smile", "🎉", "👩‍👩‍👧",
              "e\u0301t\u00e9", "ab", "a", "x", "привет", "mañana", "a" * 40]
UNSEEN = ["catty", "cafés", "日本", "😀", "b", "", "</s>", "über-naïve", "🎉🎉🎉", "z" * 30, "<b>", "é"]

def _fasttext_model(directory, minn, maxn, bucket=10007):
    """A skip-gram model trained by fastText (every vocabulary word kept), loaded with its module."""
    fasttext = pytest.importorskip("fasttext")
    rng = np.random.default_rng(0)
    corpus = directory / "corpus.txt"
    corpus.write_text("\n".join(" ".join(rng.choice(VOCABULARY, 8)) for _ in range(300)) + "\n", encoding="utf-8")
    path = train_fasttext("skipgram", corpus, directory / f"sg-{minn}-{maxn}", dim=4, epoch=1, minCount=1,
                          bucket=bucket, minn=minn, maxn=maxn)
    return fasttext.load_model(str(path))


@pytest.mark.parametrize("minn,maxn", [(3, 6), (1, 2), (2, 5), (0, 0)])
def test_rows_of_vocabulary_and_unseen_words_are_fasttexts_subword_ids(tmp_path, minn, maxn):
    model = _fasttext_model(tmp_path, minn, maxn)
    words = model.words
    assert "</s>" in words and set(VOCABULARY) <= set(words)
    settings = SubwordSettings(minn, maxn, 10007)
    rows, offsets = vocabulary_subword_rows(words, settings)
    assert len(offsets) == len(words) + 1
    for i, word in enumerate(words):
        expected = model.get_subwords(word)[1]
        assert list(rows[offsets[i]:offsets[i + 1]]) == list(expected), word
        assert list(word_subword_rows(word, settings, len(words), i)) == list(expected), word
    for word in UNSEEN:
        if word in words:
            continue
        expected = model.get_subwords(word)[1]
        assert list(word_subword_rows(word, settings, len(words))) == list(expected), word
    if maxn:  # the n-grams really are there: a short word has <w>, a long one many rows
        assert offsets[words.index("a") + 1] - offsets[words.index("a")] > 1


def test_word_table_and_list_give_the_same_rows():
    settings = SubwordSettings(2, 4, 101)
    words = VOCABULARY + ["</s>"]
    encoded = [w.encode() for w in words]
    table = WordTable(b"".join(encoded), np.cumsum([0] + [len(e) for e in encoded]).astype(np.int64))
    from_list, from_table = vocabulary_subword_rows(words, settings), vocabulary_subword_rows(table, settings)
    np.testing.assert_array_equal(from_list[0], from_table[0])
    np.testing.assert_array_equal(from_list[1], from_table[1])
    eos = len(words) - 1
    assert list(from_list[0][from_list[1][eos]:]) == [eos]  # the end token: its own row, no n-grams


def test_ngrams_count_characters_not_bytes_and_hash_into_the_buckets():
    settings = SubwordSettings(3, 3, 1000)
    # <日本> is 4 characters (8 bytes): the trigrams <日本 and 日本>
    assert len(word_subword_rows("日本", settings, 10)) == 2
    assert len(word_subword_rows("ab", settings, 10)) == 2
    rows = word_subword_rows("abcdefgh", SubwordSettings(3, 6, 1000), 10)
    assert len(rows) == 8 + 7 + 6 + 5 and rows.min() >= 10 and rows.max() < 1010
    assert len(word_subword_rows("anything", SubwordSettings(3, 0, 0), 10)) == 0


def test_mean_rows_is_the_mean_of_each_words_rows():
    matrix = np.random.default_rng(0).standard_normal((20, 3)).astype(np.float32)
    rows = np.array([0, 5, 7, 1, 3], np.int32)
    offsets = np.array([0, 3, 3, 5], np.int64)
    out = mean_rows(matrix, rows, offsets, np.empty((3, 3), np.float32))
    np.testing.assert_allclose(out[0], matrix[[0, 5, 7]].mean(axis=0), atol=1e-6)
    np.testing.assert_array_equal(out[1], 0)
    np.testing.assert_allclose(out[2], matrix[[1, 3]].mean(axis=0), atol=1e-6)


@pytest.mark.parametrize("settings", [SubwordSettings(-1, 3, 10), SubwordSettings(5, 3, 10), SubwordSettings(3, 6, 0)])
def test_bad_settings_are_one_clear_error(settings):
    with pytest.raises(FastembError):
        vocabulary_subword_rows(["a"], settings)
