"""The top-level Python API: both objectives from a path, a list of paths and sentences; save, load, predict."""
import gzip

import numpy as np
import pytest

import fastemb
from fastemb.base.errors import FastembError

from conftest import ROOT

CORPUS = ROOT / "data" / "corpus.txt.gz"
TRAIN, TEST = ROOT / "data" / "labelled-train.txt", ROOT / "data" / "labelled-test.txt"
FAST = {"dim": 16, "epochs": 1, "threads": 1, "seed": 3, "quiet": True}


@pytest.fixture(scope="module")
def lines(tmp_path_factory):
    """The embedded corpus, its first 3,000 lines, split in two files."""
    text = gzip.decompress(CORPUS.read_bytes()).decode().splitlines()[:3000]
    folder = tmp_path_factory.mktemp("lines")
    (folder / "whole.txt").write_text("\n".join(text) + "\n")
    (folder / "a.txt").write_text("\n".join(text[:1000]) + "\n")
    (folder / "b.txt").write_text("\n".join(text[1000:]) + "\n")
    return folder, text


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_a_path_a_list_of_paths_and_sentences_train_the_same_vectors(lines, model):
    folder, text = lines
    whole = fastemb.train_unsupervised(folder / "whole.txt", model=model, **FAST)
    parts = fastemb.train_unsupervised([folder / "a.txt", str(folder / "b.txt")], model=model, **FAST)
    sentences = fastemb.train_unsupervised((line.split() for line in text), model=model, **FAST)
    assert whole.words == parts.words == sentences.words and len(whole.words) > 100
    assert np.array_equal(whole.vectors.matrix, parts.vectors.matrix)
    assert np.array_equal(whole.vectors.matrix, sentences.vectors.matrix)
    assert whole.config.model == model and whole.config.lr == (0.05 if model == "cbow" else 0.025)


def test_a_word2vec_model_saves_and_loads_whole(tmp_path):
    model = fastemb.train_unsupervised(CORPUS, model="cbow", loss="hs", **FAST)
    model.save(str(tmp_path / "m.npz"))
    loaded = fastemb.load_model(str(tmp_path / "m.npz"))
    assert loaded.words == model.words and loaded.config == model.config
    assert np.array_equal(loaded.input_rows, model.input_rows)
    assert np.array_equal(loaded.output_rows, model.output_rows)  # the Huffman nodes' rows
    assert np.array_equal(loaded.get_word_vector("king"), model.vectors["king"])
    queen = dict(loaded.vectors.most_similar(loaded.get_word_vector("king"), topn=20))
    assert "king" in queen  # most_similar takes a vector too
    with pytest.raises(KeyError, match="not in the vocabulary"):
        loaded.get_word_vector("no-such-word")


def test_a_classifier_trains_predicts_tests_saves_and_loads(tmp_path):
    classifier = fastemb.train_supervised(TRAIN, epochs=5, word_ngrams=2, buckets=10_000, threads=1, quiet=True)
    labels, probabilities = classifier.predict("the team won the match", k=2)
    assert len(labels) == 2 and labels[0].startswith("__label__") and probabilities[0] >= probabilities[1]
    n, precision, recall = classifier.test(str(TEST))
    assert n == 1000 and precision > 0.9 and recall == precision
    classifier.save(str(tmp_path / "c.npz"))
    loaded = fastemb.load_model(str(tmp_path / "c.npz"))
    assert loaded.predict("the team won the match", k=2)[0] == labels
    assert np.array_equal(loaded.get_word_vector("team"), classifier.get_word_vector("team"))


@pytest.mark.parametrize("keyword, ours", [("ws", "window"), ("minCount", "min_count"), ("vector_size", "dim"),
                                           ("epoch", "epochs"), ("sg", "model"), ("alpha", "lr"),
                                           ("workers", "threads")])
def test_a_fasttext_or_gensim_keyword_names_ours(keyword, ours):
    with pytest.raises(FastembError, match=f"unknown keyword '{keyword}'; fastemb calls it {ours}"):
        fastemb.train_unsupervised(CORPUS, **{keyword: 5}, quiet=True)


def test_errors_from_python_name_the_keyword_not_the_flag():
    with pytest.raises(FastembError) as raised:
        fastemb.train_unsupervised(CORPUS, dim=0, quiet=True)
    assert str(raised.value) == "dim must be a positive integer, got 0"
    with pytest.raises(FastembError, match="^min_lr must be between 0 and lr"):
        fastemb.train_supervised(TRAIN, min_lr=5.0, quiet=True)
    with pytest.raises(FastembError, match="use 'neg' for the classifier"):
        fastemb.train_supervised(TRAIN, negative=5, quiet=True)


def test_progress_goes_to_stderr_unless_quiet(capfd):
    fastemb.train_unsupervised(CORPUS, dim=8, epochs=1, threads=1)
    assert "Read " in capfd.readouterr().err
    fastemb.train_unsupervised(CORPUS, dim=8, epochs=1, threads=1, quiet=True)
    assert capfd.readouterr().err == ""


def test_settings_are_checked_once_when_made_and_cannot_change_after():
    import dataclasses
    with pytest.raises(FastembError, match="--dim must be a positive integer, got 0"):
        fastemb.Word2VecConfig(dim=0)
    config = fastemb.SupervisedConfig(dim=8)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.dim = 0
    with pytest.raises(FastembError, match="--word-ngrams must be >= 1"):
        dataclasses.replace(config, word_ngrams=0)  # a changed copy is checked again


def test_the_api_refuses_tables_too_large_for_memory_before_reading_as_the_cli_does(tmp_path):
    # 2^30 n-gram buckets x 10,000 dims: no machine has the memory; refused before a line is read
    labelled = tmp_path / "train.txt"
    labelled.write_text("__label__a some words\n")
    for train in (lambda: fastemb.train_supervised(str(labelled), word_ngrams=2, buckets=2**30, dim=10_000),
                  lambda: fastemb.train_unsupervised(str(labelled), maxn=6, buckets=2**30, dim=10_000)):
        with pytest.raises(FastembError, match="of memory is available"):
            train()


def test_every_model_family_answers_for_its_objectives_configs_and_files(tmp_path):
    from fastemb.api import model_magic
    from fastemb.training.families import SUPERVISED, WORD2VEC, family_of, family_of_magic
    assert [family_of(name) for name in ("skipgram", "cbow", "supervised")] == [WORD2VEC, WORD2VEC, SUPERVISED]
    assert family_of(fastemb.Word2VecConfig(model="cbow")) is WORD2VEC
    assert family_of(fastemb.SupervisedConfig) is SUPERVISED
    with pytest.raises(FastembError, match="no model family trains 'glove'"):
        family_of("glove")
    model = fastemb.train_unsupervised(str(ROOT / "data" / "corpus.txt.gz"), dim=8, epochs=1, threads=1, quiet=True)
    model.save(str(tmp_path / "m.npz"))
    assert family_of_magic(model_magic(str(tmp_path / "m.npz"))) is WORD2VEC
    assert family_of(model.config).load(str(tmp_path / "m.npz")).words == model.words


def test_the_public_module_paths_still_import():
    from fastemb.config import SupervisedConfig, Word2VecConfig
    from fastemb.errors import FastembError as Error
    from fastemb.vectors import Vectors, load_vectors, save_vectors
    assert (Word2VecConfig, SupervisedConfig, Error) == (fastemb.Word2VecConfig, fastemb.SupervisedConfig, FastembError)
    assert (Vectors, load_vectors, save_vectors) == (fastemb.Vectors, fastemb.load_vectors, fastemb.save_vectors)


def test_a_fastemb_error_is_a_value_error_as_fasttexts_are():
    assert issubclass(FastembError, ValueError)
    with pytest.raises(ValueError, match="dim must be a positive integer"):
        fastemb.train_unsupervised(CORPUS, dim=0, quiet=True)


SENTENCES = [["red", "green", "blue"], ["green", "blue", "cyan"]] * 20


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A word2vec model, a subword model, their vectors and a classifier, each as small as trains."""
    labelled = tmp_path_factory.mktemp("tiny") / "labelled.txt"
    labelled.write_text("__label__a red green\n__label__b blue cyan\n" * 20)
    settings = {"dim": 4, "epochs": 1, "min_count": 1, "threads": 1, "quiet": True}
    words = fastemb.train_unsupervised(SENTENCES, **settings)
    return {"words": words, "subwords": fastemb.train_unsupervised(SENTENCES, maxn=3, **settings),
            "vectors": words.vectors, "classifier": fastemb.train_supervised(labelled, **settings)}


# (the object from `tiny`, the call, what the error must say: the argument and what was given)
WRONG_CALLS = {
    "load_model(None)": (None, lambda _: fastemb.load_model(None), "path is None"),
    "predict([1, 2])": ("classifier", lambda m: m.predict([1, 2]), r"texts\[0\] is 1, expected str"),
    "predict(a lone surrogate)": ("classifier", lambda m: m.predict("red \ud800"), "texts is 'red \\\\ud800'"),
    "predict(k=True)": ("classifier", lambda m: m.predict("red", k=True), "k is True, expected int"),
    "predict_file(None)": ("classifier", lambda m: m.predict_file(None), "path is None"),
    "test(threshold='0')": ("classifier", lambda m: m.test("x", threshold="0"), "threshold is '0'"),
    "classifier get_word_vector(5)": ("classifier", lambda m: m.get_word_vector(5), "word is 5, expected str"),
    "get_word_vector(5)": ("words", lambda m: m.get_word_vector(5), "word is 5, expected str"),
    "subwords get_word_vector(5)": ("subwords", lambda m: m.get_word_vector(5), "word is 5, expected str"),
    "subwords get_word_vector(surrogate)": ("subwords", lambda m: m.get_word_vector("\ud800"), "UTF-8 cannot"),
    "save_vectors(5)": ("words", lambda m: m.save_vectors(5), "path is 5"),
    "vectors[5]": ("vectors", lambda v: v[5], "word is 5, expected str"),
    "most_similar(5)": ("vectors", lambda v: v.most_similar(5), "positive is 5"),
    "most_similar(topn=True)": ("vectors", lambda v: v.most_similar("red", topn=True), "topn is True"),
    "nearest('red')": ("vectors", lambda v: v.nearest("red"), "vector is 'red'"),
    "load_vectors(None)": (None, lambda _: fastemb.load_vectors(None), "path is None"),
    "Vectors([1], ...)": (None, lambda _: fastemb.Vectors([1], np.zeros((1, 2))), r"words\[0\] is 1"),
    "Word2VecConfig(dim=True)": (None, lambda _: fastemb.Word2VecConfig(dim=True), "dim is True, expected int"),
    "SupervisedConfig(lr=True)": (None, lambda _: fastemb.SupervisedConfig(lr=True), "lr is True, expected float"),
    "SupervisedConfig(eos='no')": (None, lambda _: fastemb.SupervisedConfig(eos="no"), "eos is 'no', expected bool"),
    "train_unsupervised(dim=True)": (None, lambda _: fastemb.train_unsupervised(SENTENCES, dim=True, quiet=True),
                                     "dim is True"),
    "train_unsupervised(None)": (None, lambda _: fastemb.train_unsupervised(None, quiet=True), "input is None"),
    "a sentence with a lone surrogate": (None, lambda _: fastemb.train_unsupervised([["red", "\ud800"]], quiet=True),
                                         r"sentences\[0\]\[1\] is '\\ud800', which UTF-8 cannot encode"),
    "a token that is no str": (None, lambda _: fastemb.train_unsupervised([["red", 5]], quiet=True),
                               r"sentences\[0\]\[1\] is 5, expected str"),
    "train_supervised(quiet='yes')": (None, lambda _: fastemb.train_supervised(TRAIN, quiet="yes"), "quiet is 'yes'"),
}


@pytest.mark.parametrize("name", WRONG_CALLS)
def test_a_wrong_type_or_unencodable_text_is_one_error_naming_the_argument(tiny, name):
    target, call, message = WRONG_CALLS[name]
    with pytest.raises(FastembError, match=message):
        call(tiny.get(target))
