"""fastemb.fasttext against fastText: fastText's own unit tests run on it, and what it reports of a model
(words, labels, subwords, ids, lines, tokens, predictions) is what the real fasttext package reports."""
from __future__ import annotations

import os
import random
import subprocess
import sys
import types
import unittest

import numpy as np
import pytest

import fastemb.fasttext as ours

# fastText's tests are read, not copied: from the fasttext package the test extra installs (it ships them),
# else from fastText's sources (a clone or bare git directory of facebookresearch/fastText).
FASTTEXT_REPO = os.environ.get("FASTTEXT_REPO", "/work/.mirror/facebookresearch+fastText/repo")
TEST_DIR = "python/fasttext_module/fasttext/tests"


def _fasttext_source(path: str) -> str | None:
    import importlib.util
    spec = importlib.util.find_spec("fasttext")
    if spec is not None and spec.origin:
        installed = os.path.join(os.path.dirname(spec.origin), "tests", os.path.basename(path))
        if os.path.exists(installed):
            with open(installed) as handle:
                return handle.read()
    try:
        return subprocess.run(["git", "-C", FASTTEXT_REPO, "show", f"HEAD:{path}"], capture_output=True,
                              text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None


def _as_module(name: str, source: str, path: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__file__ = path
    sys.modules[name] = module
    exec(compile(source, path, "exec"), module.__dict__)
    return module


def test_fasttexts_own_unit_tests_pass(monkeypatch):
    script = _fasttext_source(f"{TEST_DIR}/test_script.py")
    configurations = _fasttext_source(f"{TEST_DIR}/test_configurations.py")
    if script is None or configurations is None:
        pytest.skip(f"fastText's tests are neither in the installed fasttext package nor at {FASTTEXT_REPO} (set "
                    "FASTTEXT_REPO to a clone or bare git directory of facebookresearch/fastText)")
    tests_package = types.ModuleType("fasttext.tests")
    tests_package.__path__ = []
    for name, module in (("fasttext", ours), ("fasttext.util", ours.util), ("fasttext.tests", tests_package)):
        monkeypatch.setitem(sys.modules, name, module)
    for name in ("fasttext.tests.test_configurations", "fasttext.tests.test_script"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    _as_module("fasttext.tests.test_configurations", configurations, f"{TEST_DIR}/test_configurations.py")
    test_class = _as_module("fasttext.tests.test_script", script, f"{TEST_DIR}/test_script.py").gen_unit_tests()
    suite = unittest.TestLoader().loadTestsFromTestCase(test_class)
    result = unittest.TextTestRunner(stream=open(os.devnull, "w")).run(suite)
    problems = [(test.id().rsplit(".", 1)[-1], trace.splitlines()[-1]) for test, trace in
                result.failures + result.errors]
    assert suite.countTestCases() == 83 and not problems, problems


# ---------------------------------------------------------------------------------------------
# The same answers as the real fasttext package

real = pytest.importorskip("fasttext")


def _fasttext_trained(function: str, input: str, output: str, **kwargs):
    """fastText's model trained in a fresh interpreter and saved to ``output``, then loaded: in this process,
    after Numba's kernels ran, fastText's training of these small sets often ends in "Encountered NaN"."""
    code = (f"import fasttext; fasttext.{function}({input!r}, verbose=0, **{kwargs!r}).save_model({output!r})")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return real.load_model(output)


def _write(path, lines):
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Lines of words drawn with distinct frequencies (so both orders of the vocabulary agree), labelled by
    which half of the words they draw from."""
    rng = random.Random(7)
    words = [f"w{i}" for i in range(60)] + ["café", "日本語", "naïve"]
    weights = [1.0 / (i + 1) for i in range(len(words))]
    labelled, plain = [], []
    for _ in range(600):
        label = rng.choice(["a", "b", "c"])
        pool = words[:40] if label == "a" else words[20:]
        line = " ".join(rng.choices(pool, weights[:len(pool)] if label == "a" else weights[20:],
                                    k=rng.randint(1, 8)))
        labelled.append(f"__label__{label} {line}")
        plain.append(line)
    directory = tmp_path_factory.mktemp("fasttext-module")
    return {"labelled": _write(directory / "labelled.txt", labelled), "plain": _write(directory / "plain.txt", plain),
            "dir": directory}


@pytest.fixture(scope="module")
def fasttext_classifier(corpus):
    path = str(corpus["dir"] / "classifier.bin")
    # with word n-grams too fastText ends this small run in "Encountered NaN"
    _fasttext_trained("train_supervised", corpus["labelled"], path, epoch=5, dim=10, thread=1, minn=2, maxn=3,
                      bucket=5000, seed=1)
    return path


@pytest.fixture(scope="module")
def fasttext_word_model(corpus):
    path = str(corpus["dir"] / "words.bin")
    _fasttext_trained("train_unsupervised", corpus["plain"], path, epoch=1, dim=8, thread=1, minCount=1, minn=2,
                      maxn=4, bucket=5000)
    return path


QUERIES = ["w1 w2 w3", "café 日本語 unseen", "", "__label__a w5", "__label__zz w30 w31", "w1 </s> w2", "zz"]


def _their_predictions(model, lines, k):
    """fastText's predictions, read from its binding (its Python predict fails on numpy 2); the binding gives
    exp(log(p + 1e-5)) for p."""
    found = [model.f.predict(line + "\n", k, 0.0, "strict") for line in lines]
    return [(tuple(label for _, label in f), np.array([p for p, _ in f]) - 1e-5) for f in found]


def _same_dictionary(mine, theirs, probes):
    assert mine.get_words() == theirs.get_words()
    assert mine.get_labels() == theirs.get_labels()
    np.testing.assert_array_equal(mine.get_words(include_freq=True)[1], theirs.get_words(include_freq=True)[1])
    np.testing.assert_array_equal(mine.get_labels(include_freq=True)[1], theirs.get_labels(include_freq=True)[1])
    for word in probes:
        assert mine.get_word_id(word) == theirs.get_word_id(word)
        subwords, ids = mine.get_subwords(word)
        their_subwords, their_ids = theirs.get_subwords(word)
        assert subwords == their_subwords and list(ids) == list(their_ids)
        assert [mine.get_subword_id(s) for s in subwords[1:]] == [theirs.get_subword_id(s) for s in subwords[1:]]
        np.testing.assert_allclose(mine.get_word_vector(word), theirs.get_word_vector(word), atol=1e-6)
    for line in QUERIES:
        assert mine.get_line(line) == theirs.get_line(line)
    assert mine.get_line(QUERIES) == theirs.get_line(QUERIES)


PROBES = ["w1", "w33", "café", "日本語", "unseen", "</s>", "a", "__label__zz"]


def test_a_fasttext_classifier_reads_and_predicts_as_fasttext(fasttext_classifier):
    mine, theirs = ours.load_model(fasttext_classifier), real.load_model(fasttext_classifier)
    _same_dictionary(mine, theirs, PROBES)
    for label in ("__label__b", "__label__zz"):
        assert (mine.get_label_id(label), mine.get_word_id(label)) == \
            (theirs.get_label_id(label), theirs.get_word_id(label))
    assert mine.get_dimension() == 10 and not mine.is_quantized()
    np.testing.assert_allclose(mine.get_input_matrix(), theirs.get_input_matrix())
    for k in (1, 2, -1):
        labels, probs = mine.predict(QUERIES, k)
        for line, label_list, prob, (their_labels, their_probs) in zip(
                QUERIES, labels, probs, _their_predictions(theirs, QUERIES, k)):
            assert tuple(label_list) == their_labels, line
            np.testing.assert_allclose(prob, their_probs, atol=2e-5)
            one_labels, one_probs = mine.predict(line, k)
            assert one_labels == their_labels and list(one_probs) == list(prob)
    for line in QUERIES:
        np.testing.assert_allclose(mine.get_sentence_vector(line), theirs.get_sentence_vector(line), atol=1e-6)


def test_a_fasttext_word_model_reads_as_fasttext(fasttext_word_model):
    mine, theirs = ours.load_model(fasttext_word_model), real.load_model(fasttext_word_model)
    _same_dictionary(mine, theirs, PROBES)
    np.testing.assert_allclose(mine.get_output_matrix(), theirs.get_output_matrix())
    assert [w for _, w in mine.get_nearest_neighbors("w3", k=5)] == \
        [w for _, w in theirs.get_nearest_neighbors("w3", k=5)]
    assert [w for _, w in mine.get_analogies("w1", "w2", "w3", k=3)] == \
        [w for _, w in theirs.get_analogies("w1", "w2", "w3", k=3)]
    np.testing.assert_allclose(mine.get_sentence_vector("w1 café zz"), theirs.get_sentence_vector("w1 café zz"),
                               atol=1e-6)
    assert ("w1" in mine, "nope" in mine) == (True, False)
    np.testing.assert_array_equal(mine["w1"], mine.get_word_vector("w1"))


@pytest.mark.parametrize("text", ["asdf asdb", "\n", "a\n\nb  c\n", "", " ", "a\tb\x00c\rd\x0be\x0cf\u00a0g",
                                  "café 日本語\n</s> x"])
def test_tokenize_is_fasttexts(text):
    assert ours.tokenize(text) == real.tokenize(text)


def test_fastembs_models_are_what_fasttext_trains_and_loads(corpus, fasttext_classifier, tmp_path):
    mine = ours.train_supervised(input=corpus["labelled"], epoch=5, dim=10, thread=1, minn=2, maxn=3, bucket=5000,
                                 wordNgrams=2, verbose=0)
    # the same words and counts; fastText's order among equal counts is its sort's (not a stable one)
    assert dict(zip(*mine.get_words(include_freq=True))) == \
        dict(zip(*real.load_model(fasttext_classifier).get_words(include_freq=True)))
    assert mine.test(corpus["labelled"])[1] > 0.6
    mine.save_model(str(tmp_path / "mine.bin"))
    loaded = real.load_model(str(tmp_path / "mine.bin"))
    _same_dictionary(mine, loaded, PROBES)
    for (labels, probs), (their_labels, their_probs) in zip(
            [mine.predict(line, 2) for line in QUERIES], _their_predictions(loaded, QUERIES, 2)):
        assert labels == their_labels
        np.testing.assert_allclose(probs, their_probs, atol=2e-5)
    assert mine.test(corpus["labelled"]) == pytest.approx(loaded.test(corpus["labelled"]))

    words = ours.train_unsupervised(corpus["plain"], model="cbow", epoch=1, dim=8, thread=1, minCount=1,
                                    verbose=0)
    their_words = _fasttext_trained("train_unsupervised", corpus["plain"], str(tmp_path / "their-words.bin"),
                                    model="cbow", epoch=1, dim=8, thread=1, minCount=1)
    # </s> included, counted once a line
    assert dict(zip(*words.get_words(include_freq=True))) == dict(zip(*their_words.get_words(include_freq=True)))
    words.save_model(str(tmp_path / "words.bin"))
    _same_dictionary(words, real.load_model(str(tmp_path / "words.bin")), PROBES)


def test_quantize_writes_an_ftz_fasttext_predicts_the_same_from(corpus, tmp_path):
    mine = ours.train_supervised(corpus["labelled"], epoch=5, dim=10, thread=1, wordNgrams=2, bucket=2000,
                                 verbose=0)
    before = mine.test(corpus["labelled"])
    mine.quantize(qnorm=True, dsub=3)
    assert mine.is_quantized()
    with pytest.raises(ValueError, match="quantized"):
        mine.get_input_matrix()
    assert mine.test(corpus["labelled"])[1] == pytest.approx(before[1], abs=0.05)
    mine.save_model(str(tmp_path / "mine.ftz"))
    assert os.path.getsize(tmp_path / "mine.ftz") < os.path.getsize(corpus["labelled"]) * 2
    theirs, again = real.load_model(str(tmp_path / "mine.ftz")), ours.load_model(str(tmp_path / "mine.ftz"))
    assert theirs.is_quantized() and again.is_quantized()
    for (labels, probs), (their_labels, their_probs), (again_labels, _) in zip(
            [mine.predict(line, 2) for line in QUERIES], _their_predictions(theirs, QUERIES, 2),
            [again.predict(line, 2) for line in QUERIES]):
        assert labels == their_labels == again_labels
        np.testing.assert_allclose(probs, their_probs, atol=2e-5)


def test_fasttexts_errors(corpus):
    model = ours.train_supervised(corpus["labelled"], epoch=1, dim=4, thread=1, verbose=0)
    for call in (lambda: model.predict("two\nlines"), lambda: model.get_line("a\nb"),
                 lambda: model.get_sentence_vector("a\n"), lambda: ours.train_unsupervised(corpus["plain"],
                                                                                         model="supervised")):
        with pytest.raises(ValueError):
            call()
    with pytest.raises(TypeError, match="unexpected keyword argument 'epochs'"):
        ours.train_supervised(corpus["labelled"], epochs=3)
    with pytest.raises(ValueError, match="too small to quantize"):
        model.quantize(qout=True)  # three labels: as fastText, fewer rows than centroids
    words = ours.train_unsupervised(corpus["plain"], epoch=1, dim=4, thread=1, minCount=1, verbose=0)
    with pytest.raises(ValueError):
        words.quantize()
    assert words.get_labels() == words.get_words()


def test_the_cli_quantizes_a_classifier_into_an_ftz_fasttext_reads(corpus, tmp_path):
    from conftest import run_cli
    model, ftz = tmp_path / "m.npz", tmp_path / "m.ftz"
    trained = run_cli("supervised", corpus["labelled"], "-o", model, "--epochs", "5", "--dim", "10", "--word-ngrams",
                      "2", "--buckets", "2000", "--threads", "1", "--quiet")
    assert trained.returncode == 0, trained.stderr
    done = run_cli("quantize", model, "-o", ftz, "--qnorm", "--dsub", "5")
    assert done.returncode == 0 and "Saved" in done.stdout, done.stderr
    assert os.path.getsize(ftz) < os.path.getsize(model)
    theirs, mine = real.load_model(str(ftz)), ours.load_model(str(ftz))
    assert theirs.is_quantized() and mine.is_quantized()
    for (labels, probs), (their_labels, their_probs) in zip([mine.predict(line, 2) for line in QUERIES],
                                                            _their_predictions(theirs, QUERIES, 2)):
        assert labels == their_labels
        np.testing.assert_allclose(probs, their_probs, atol=2e-5)
    refused = run_cli("quantize", model, "-o", model)
    assert refused.returncode == 1 and refused.stderr.startswith("Error: ") and "same file" in refused.stderr
