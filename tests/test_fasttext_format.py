"""fastText's .bin, read and written: against fastText itself (its CLI trains, its Python module loads)."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from conftest import run_cli, train_fasttext
from fastemb.base.config import SupervisedConfig, Word2VecConfig
from fastemb.base.errors import FastembError
from fastemb.models.supervised import SupervisedModel
from fastemb.models.vectors import Vectors
from fastemb.formats.fasttext import (MAGIC, FastTextModelFile, from_supervised, from_word2vec, hs_rows_to_fastemb,
                                     hs_rows_to_fasttext, is_fasttext_file, read_fasttext)

fasttext = pytest.importorskip("fasttext")

WORDS = ["cat", "cats", "running", "café", "naïve", "größe", "日本語", "東京", "😀smile", "🎉", "ab", "a", "привет"]
UNSEEN = ["catty", "cafés", "日本", "😀", "b", "", "</s>", "über", "zzzzzzzz", "q"]
TOPICS = {"sport": ["ball", "goal", "team", "match", "run"], "food": ["café", "pizza", "mañana", "soup", "eat"],
          "tech": ["日本語", "code", "chip", "😀", "data"], "art": ["paint", "naïve", "music", "größe", "song"]}
LINES = ["ball goal team", "café pizza", "unknown words here", "", "日本語 code 😀 data", "paint music ball café",
         "ball ball __label__food soup"]
LOSSES = ("softmax", "hs", "ns", "ova")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """fastText's own files: a skip-gram with subwords, a classifier per loss (word bigrams), a quantized one."""
    directory = tmp_path_factory.mktemp("fasttext")
    rng = np.random.default_rng(0)
    corpus = directory / "corpus.txt"
    corpus.write_text("\n".join(" ".join(rng.choice(WORDS, 8)) for _ in range(300)) + "\n", encoding="utf-8")
    train_fasttext("skipgram", corpus, directory / "sg", dim=8, epoch=1, minCount=1, bucket=10007, minn=3, maxn=6)
    labelled = directory / "labelled.txt"
    every = sum(TOPICS.values(), [])
    lines = []
    for _ in range(600):
        topic = list(TOPICS)[rng.integers(len(TOPICS))]
        words = [rng.choice(TOPICS[topic]) if rng.random() < 0.7 else rng.choice(every) for _ in range(6)]
        lines.append(f"__label__{topic} " + " ".join(words))
    labelled.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for loss in LOSSES:
        train_fasttext("supervised", labelled, directory / f"sup-{loss}", dim=8, epoch=5, wordNgrams=2, bucket=1009,
                       loss=loss)
    shutil.copy(directory / "sup-softmax.bin", directory / "q.bin")
    train_fasttext("quantize", labelled, directory / "q")
    return directory


def _fasttext_predictions(model, line):
    """{label: probability} of every label, by fastText (its Python wrapper's ``predict`` fails with numpy 2,
    so the bound method it wraps is called, with the newline the CLI sees)."""
    return {label: p for p, label in model.f.predict(line + "\n", -1, 0.0, "strict")}


def _fasttext_probabilities(model, line):
    """What fastText's predict computes from fastemb's rows: its forward pass with its std_log (p + 1e-5)
    and, for ns and ova, its 512-entry sigmoid table over [-8, 8]."""
    examples = model.encode(_stream(line))
    rows = examples.rows[examples.row_offsets[0]:examples.row_offsets[1]]
    hidden = model.input_rows[rows].mean(axis=0, dtype=np.float64)
    scores = model.output_rows.astype(np.float64) @ hidden
    loss = model.config.loss
    if loss == "softmax":
        p = np.exp(scores - scores.max())
        return p / p.sum() + 1e-5
    if loss == "hs":
        branch = 1 / (1 + np.exp(-scores))
        nodes, labels, offsets = model.paths
        return np.array([np.exp(sum(np.log((branch[n] if y > 0.5 else 1 - branch[n]) + 1e-5)
                                    for n, y in zip(nodes[a:b], labels[a:b])))
                         for a, b in zip(offsets[:-1], offsets[1:])])
    table = 1 / (1 + np.exp(-(np.arange(513) * 16 / 512 - 8)))
    index = ((np.clip(scores, -8, 8) + 8) * 512 / 16).astype(np.int64)
    return np.where(scores < -8, 0.0, np.where(scores > 8, 1.0, table[index])) + 1e-5


def _stream(line):
    from fastemb.text.labelled import _TokenTable
    table = _TokenTable()
    table.add_lines([line])
    return table.stream(True)


# --------------------------------------------------------------------------------------------
# Reading fastText's files


def test_a_fasttext_skipgram_gives_fasttexts_word_vectors_for_every_word(models):
    path = str(models / "sg.bin")
    theirs = fasttext.load_model(path)
    mine = read_fasttext(path)
    assert mine.args["model"] == "sg" and mine.args["loss"] == "ns"
    assert (mine.args["minn"], mine.args["maxn"], mine.args["bucket"], mine.dim) == (3, 6, 10007, 8)
    assert list(mine.words) == theirs.words and not mine.labels
    counts = dict(zip(*theirs.get_words(include_freq=True)))
    assert list(mine.word_counts) == [counts[w] for w in theirs.words]
    expected = np.array([theirs.get_word_vector(w) for w in theirs.words])
    np.testing.assert_allclose(mine.vocabulary_vectors(), expected, atol=1e-6)
    np.testing.assert_allclose(Vectors.from_fasttext(mine).matrix, expected, atol=1e-6)
    for word in UNSEEN + WORDS:
        np.testing.assert_allclose(mine.word_vector(word), theirs.get_word_vector(word), atol=1e-6, err_msg=word)
    assert mine.word_id("café") == theirs.get_word_id("café") and mine.word_id("catty") == -1
    assert np.abs(mine.word_vector("catty")).sum() > 0  # an unseen word has n-gram rows
    np.testing.assert_array_equal(mine.word_vector("</s>"), theirs.get_input_vector(theirs.get_word_id("</s>")))


def test_the_matrices_are_memory_mapped_not_read(models):
    mine = read_fasttext(str(models / "sg.bin"))
    for matrix in (mine.input_rows, mine.output_rows):
        assert isinstance(matrix, np.memmap) and not matrix.flags.writeable
    theirs = fasttext.load_model(str(models / "sg.bin"))
    np.testing.assert_array_equal(mine.input_rows, theirs.get_input_matrix())
    np.testing.assert_array_equal(mine.output_rows, theirs.get_output_matrix())
    classifier = SupervisedModel.from_fasttext(read_fasttext(str(models / "sup-softmax.bin")))
    assert _maps_a_file(classifier.input_rows)  # a view of the mapping, not a copy


def _maps_a_file(array):
    while array is not None and not isinstance(array, np.memmap):
        array = getattr(array, "base", None)
    return array is not None


@pytest.mark.parametrize("loss", LOSSES)
def test_a_fasttext_classifier_predicts_as_fasttext(models, loss):
    path = str(models / f"sup-{loss}.bin")
    theirs = fasttext.load_model(path)
    mine = SupervisedModel.from_fasttext(read_fasttext(path))
    assert mine.config.loss == loss and mine.config.word_ngrams == 2 and mine.config.eos
    assert mine.labels == theirs.labels and mine.words == theirs.words
    assert mine.input_rows.shape[0] == len(theirs.words) + 1009
    for line in LINES:
        expected = _fasttext_predictions(theirs, line)
        computed = dict(zip(mine.labels, _fasttext_probabilities(mine, line)))
        for label, p in expected.items():
            assert computed[label] == pytest.approx(p, abs=1e-5), (line, label)
        if loss in ("softmax", "hs"):
            # fastemb's own predict: the same ranking, the probabilities without fastText's + 1e-5 inside its log
            labels, probs = mine.predict(line, k=-1)
            ranked = sorted(expected, key=expected.get, reverse=True)
            assert list(labels) == ranked, line
            depth = 1 if loss == "softmax" else int(np.diff(mine.paths[2]).max())
            np.testing.assert_allclose(probs, [expected[label] for label in labels], atol=depth * 1e-5 + 1e-6)
        else:
            # fastemb's sigmoid is exact, fastText's a table with a step of 1/32 in the logit: at most
            # 0.25 / 32 apart (so near-equal labels may rank differently).
            probs = dict(zip(*mine.predict(line, k=-1)))
            for label, p in expected.items():
                assert probs[label] == pytest.approx(p, abs=0.25 / 32 + 1e-5), (line, label)


def test_hs_rows_map_between_fasttexts_numbering_and_fastembs():
    rows = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    mine = hs_rows_to_fastemb(rows, 5)
    assert mine.shape == (4, 3)
    np.testing.assert_array_equal(mine[0], -rows[3])  # fastemb's root (id 0) is fastText's last inner node
    back = hs_rows_to_fasttext(mine, 5)
    np.testing.assert_array_equal(back[:4], rows[:4])
    np.testing.assert_array_equal(back[4], 0)


# --------------------------------------------------------------------------------------------
# Writing files fastText reads


def test_a_read_model_written_back_is_the_same_file(models, tmp_path):
    for name in ("sg.bin", "sup-hs.bin"):
        read_fasttext(str(models / name)).save(str(tmp_path / name))
        assert (tmp_path / name).read_bytes() == (models / name).read_bytes()


def test_a_model_built_from_arrays_loads_in_fasttext_with_equal_vectors_and_predictions(models, tmp_path):
    source = read_fasttext(str(models / "sg.bin"))
    rebuilt = FastTextModelFile.from_arrays(
        {k: source.args[k] for k in ("dim", "minn", "maxn", "bucket", "model", "loss")}, list(source.words),
        source.word_counts, [], [], np.array(source.input_rows), np.array(source.output_rows))
    rebuilt.save(str(tmp_path / "sg.bin"))
    theirs = fasttext.load_model(str(tmp_path / "sg.bin"))
    for word in UNSEEN + WORDS:
        np.testing.assert_allclose(theirs.get_word_vector(word), source.word_vector(word), atol=1e-6)

    classifier = SupervisedModel.from_fasttext(read_fasttext(str(models / "sup-softmax.bin")))
    from_supervised(classifier).save(str(tmp_path / "sup.bin"))
    reloaded = fasttext.load_model(str(tmp_path / "sup.bin"))
    for line in LINES:
        expected = _fasttext_predictions(fasttext.load_model(str(models / "sup-softmax.bin")), line)
        assert _fasttext_predictions(reloaded, line) == pytest.approx(expected, abs=1e-6)


def _labelled_file(tmp_path):
    rng = np.random.default_rng(1)
    lines = []
    for _ in range(300):
        topic = list(TOPICS)[rng.integers(len(TOPICS))]
        lines.append(f"__label__{topic} " + " ".join(rng.choice(TOPICS[topic], 5)))
    path = tmp_path / "train.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("loss,word_ngrams", [(loss, 2) for loss in LOSSES] + [("softmax", 1)])
def test_a_fastemb_classifier_predicts_the_same_in_fasttext(tmp_path, loss, word_ngrams):
    from fastemb.training.supervised import train_supervised
    config = SupervisedConfig(dim=8, epochs=3, threads=1, lr=0.3, word_ngrams=word_ngrams, buckets=503, loss=loss)
    model = train_supervised(str(_labelled_file(tmp_path)), config)
    from_supervised(model).save(str(tmp_path / "mine.bin"))
    theirs = fasttext.load_model(str(tmp_path / "mine.bin"))
    assert theirs.words == model.words and theirs.labels == model.labels
    for line in LINES:
        expected = _fasttext_predictions(theirs, line)
        computed = dict(zip(model.labels, _fasttext_probabilities(model, line)))
        for label, p in expected.items():
            assert computed[label] == pytest.approx(p, abs=1e-5), (line, label)
        if loss == "softmax":
            labels, probs = model.predict(line, k=-1)
            assert list(labels) == sorted(expected, key=expected.get, reverse=True)
            np.testing.assert_allclose(probs + 1e-5, [expected[label] for label in labels], atol=1e-6)
    back = SupervisedModel.from_fasttext(read_fasttext(str(tmp_path / "mine.bin")))
    np.testing.assert_array_equal(back.output_rows, model.output_rows)  # hs: reversed and negated twice


@pytest.mark.parametrize("model_name,loss", [("skipgram", "ns"), ("cbow", "hs")])
def test_fastemb_word_vectors_load_in_fasttext(topic_corpus, tmp_path, model_name, loss):
    from fastemb.training.word2vec import train_word2vec
    config = Word2VecConfig(model=model_name, loss=loss, dim=8, epochs=1, threads=1, min_count=1)
    model = train_word2vec(str(topic_corpus), config)
    from_word2vec(model).save(str(tmp_path / "w.bin"))
    theirs = fasttext.load_model(str(tmp_path / "w.bin"))
    assert theirs.words == model.vocab.words
    np.testing.assert_allclose([theirs.get_word_vector(w) for w in theirs.words], model.input_rows, atol=1e-6)
    np.testing.assert_array_equal(theirs.get_word_vector("unseen"), 0)  # no n-grams: an unseen word is zeros
    back = read_fasttext(str(tmp_path / "w.bin"))
    assert back.args["model"] == ("sg" if model_name == "skipgram" else "cbow") and back.args["loss"] == loss
    if loss == "hs":
        np.testing.assert_array_equal(hs_rows_to_fastemb(back.output_rows, len(model.vocab)), model.output_rows)


# --------------------------------------------------------------------------------------------
# Files fastemb refuses, with one line naming the file


def _one_line_error(path, expected):
    with pytest.raises(FastembError) as raised:
        read_fasttext(str(path))
    message = str(raised.value)
    assert "\n" not in message and str(path) in message and expected in message, message


def test_a_quantized_model_predicts_as_fasttext(models):
    assert is_fasttext_file(str(models / "q.ftz"))
    classifier = SupervisedModel.from_fasttext(read_fasttext(str(models / "q.ftz")))
    theirs = fasttext.load_model(str(models / "q.ftz"))
    for line in ("pizza pasta", "goal match", "zzzz", ""):
        labels, probs = classifier.predict(line, k=-1)
        expected = _fasttext_predictions(theirs, line)
        assert labels == tuple(expected)
        np.testing.assert_allclose(probs + 1e-5, list(expected.values()), rtol=1e-4)


def test_a_quantized_model_with_a_pruned_vocabulary_is_refused(models, tmp_path):
    shutil.copy(models / "sup-softmax.bin", tmp_path / "pruned.bin")
    train_fasttext("quantize", models / "labelled.txt", tmp_path / "pruned", cutoff=300)
    _one_line_error(tmp_path / "pruned.ftz", "pruned")


def test_truncated_foreign_and_padded_files_are_refused(models, tmp_path):
    data = (models / "sup-softmax.bin").read_bytes()
    dictionary_end = len(data) - (16 + 4 * 8 * (1009 + read_fasttext(str(models / "sup-softmax.bin")).n_words))
    cases = {"header": (data[:6], "not a fastText model"), "args": (data[:40], "truncated"),
             "dictionary": (data[:120], "truncated"), "input": (data[:dictionary_end + 50], "truncated"),
             "output": (data[:-4], "truncated"), "padded": (data + b"\0" * 8, "after the output matrix"),
             "magic": (b"\x00\x01" + data[2:], "not a fastText model"),
             "version": (data[:4] + np.array([99], "<i4").tobytes() + data[8:], "version 99"),
             "empty": (b"", "not a fastText model")}
    for name, (content, expected) in cases.items():
        path = tmp_path / f"{name}.bin"
        path.write_bytes(content)
        _one_line_error(path, expected)
    _one_line_error(tmp_path / "missing.bin", "no such file")
    assert not is_fasttext_file(str(tmp_path / "magic.bin"))
    assert int(np.frombuffer(data[:4], "<i4")[0]) == MAGIC


def test_a_word_with_a_nul_byte_cannot_be_written(tmp_path):
    rows = np.zeros((2, 4), np.float32)
    model = FastTextModelFile.from_arrays({"dim": 4, "bucket": 0, "minn": 0, "maxn": 0}, ["a", "b\0c"], [2, 1], [], [],
                                          rows, rows)
    with pytest.raises(FastembError, match="NUL"):
        model.save(str(tmp_path / "nul.bin"))
    assert not (tmp_path / "nul.bin").exists()


def test_a_word_vector_model_is_not_a_classifier(models):
    with pytest.raises(FastembError, match="not a classifier"):
        SupervisedModel.from_fasttext(read_fasttext(str(models / "sg.bin")))


def test_a_classifier_with_character_ngrams_predicts_as_fasttext(models, tmp_path):
    # fastText's own classifier with -minn 2 -maxn 4 written into its args: training one with character
    # n-grams on this small set ends in fastText's "Encountered NaN" (always with one thread, often with ten)
    data = bytearray((models / "sup-softmax.bin").read_bytes())
    data[8 + 4 * 9:8 + 4 * 11] = np.array([2, 4], "<i4").tobytes()  # magic, version, then the args minn, maxn
    (tmp_path / "char.bin").write_bytes(bytes(data))
    model = read_fasttext(str(tmp_path / "char.bin"))
    theirs = fasttext.load_model(str(tmp_path / "char.bin"))
    np.testing.assert_allclose(model.word_vector("pizzas"), theirs.get_word_vector("pizzas"), atol=1e-6)
    classifier = SupervisedModel.from_fasttext(model)
    for line in ("pizzas and pasta", "zzzz unseen", ""):
        labels, probs = classifier.predict(line, k=2)
        # fastText's predict of numpy 2 fails in its Python layer; its binding gives exp(log(p + 1e-5))
        expected = theirs.f.predict(line + "\n", 2, 0.0, "strict")
        assert labels == tuple(label for _, label in expected)
        np.testing.assert_allclose(probs + 1e-5, [p for p, _ in expected], rtol=1e-4)


# --------------------------------------------------------------------------------------------
# The command line on fastText's files


def test_cli_vectors_prints_what_fasttext_prints(models, tmp_path):
    path = str(models / "sg.bin")
    theirs = fasttext.load_model(path)
    words = ["cat", "café", "catty", "日本", "zzzz", "</s>"]
    from_args = run_cli("vectors", path, *words)
    from_stdin = run_cli("vectors", path, "-", input_text=" ".join(words[:3]) + "\n" + "\t".join(words[3:]) + "\n")
    assert from_args.returncode == 0 and from_stdin.stdout == from_args.stdout
    lines = from_args.stdout.splitlines()
    assert [line.split(" ")[0] for line in lines] == words
    for word, line in zip(words, lines):
        assert line.endswith(" ")  # fastText's layout: a space after every value
        np.testing.assert_allclose(np.array(line.split()[1:], dtype=np.float32), theirs.get_word_vector(word),
                                   rtol=1e-4, atol=1e-9)
    if shutil.which("fasttext"):
        import subprocess
        printed = subprocess.run(["fasttext", "print-word-vectors", path], input=" ".join(words), text=True,
                                 capture_output=True, check=True).stdout
        assert printed == from_args.stdout
    vec = tmp_path / "v.txt"
    Vectors.from_fasttext(read_fasttext(path)).save(str(vec))
    plain = run_cli("vectors", vec, "cat", "catty").stdout.splitlines()
    assert plain[0].split()[1:] == lines[0].split()[1:] and set(plain[1].split()[1:]) == {"0"}


def test_cli_neighbors_of_an_unseen_word_in_a_bin_are_fasttexts(models):
    path = str(models / "sg.bin")
    theirs = fasttext.load_model(path)
    done = run_cli("neighbors", path, "catty", "cat", "-k", "3")
    assert done.returncode == 0, done.stderr
    for line, word in zip(done.stdout.splitlines(), ["catty", "cat"]):
        expected = theirs.get_nearest_neighbors(word, k=3)
        shown = [part.rsplit(" ", 1) for part in line.split(": ", 1)[1].split(", ")]
        assert [w for w, _ in shown] == [w for _, w in expected]
        np.testing.assert_allclose([float(s) for _, s in shown], [s for s, _ in expected], atol=1e-3)


@pytest.mark.parametrize("loss", ["softmax", "hs"])
def test_cli_predict_and_test_take_a_fasttext_classifier(models, tmp_path, loss):
    path = str(models / f"sup-{loss}.bin")
    theirs = fasttext.load_model(path)
    lines = tmp_path / "lines.txt"
    lines.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    predicted = run_cli("predict", path, lines, "-k", "2", "--probabilities")
    assert predicted.returncode == 0, predicted.stderr
    for line, shown in zip(LINES, predicted.stdout.splitlines()):
        expected = sorted(_fasttext_predictions(theirs, line).items(), key=lambda item: -item[1])[:2]
        parts = shown.split()
        assert parts[0::2] == [label for label, _ in expected]
        np.testing.assert_allclose(np.array(parts[1::2], dtype=float), [p for _, p in expected], atol=5e-5)
    tested = run_cli("test", path, models / "labelled.txt")
    n, precision, recall = theirs.test(str(models / "labelled.txt"))
    assert tested.returncode == 0, tested.stderr
    # fastText prints three significant digits (C++ setprecision(3)): 0.98, not 0.980
    assert tested.stdout.split()[:6] == ["N", str(n), "P@1", f"{precision:.3g}", "R@1", f"{recall:.3g}"]


def test_cli_predicts_from_a_quantized_model(models):
    done = run_cli("predict", models / "q.ftz", models / "labelled.txt")
    theirs = fasttext.load_model(str(models / "q.ftz"))
    lines = (models / "labelled.txt").read_text(encoding="utf-8").splitlines()
    assert done.returncode == 0
    assert done.stdout.splitlines() == [next(iter(_fasttext_predictions(theirs, line))) for line in lines]
