"""The supervised classifier: sparse updates, fastText's n-gram hashing and metrics, CLI and file format."""
import io
import json
import shutil
import subprocess

import numpy as np
import pytest
from click.testing import CliRunner

from fastemb.text import labelled
from fastemb.training import supervised
from fastemb.training import word2vec
from fastemb.cli import main
from fastemb.base.config import SUPERVISED_LOSSES, SupervisedConfig, Word2VecConfig
from fastemb.kernels.rows import MAX_LOGIT, TABLE_SCALE, make_tables
from fastemb.kernels.epoch import train_chunks
from fastemb.kernels.huffman import huffman_paths
from fastemb.kernels.hashing import fnv1a_hashes
from fastemb.models.metrics import format_test, score_predictions
from fastemb.base.progress import Progress
from fastemb.models.supervised import SupervisedModel, load_model
from fastemb.models.tables import n_output_rows
from fastemb.training.supervised import supervised_job, train_supervised
from fastemb.training.trainer import Trainer
from fastemb.text.vocab import Vocab

from conftest import run_cli

# --------------------------------------------------------------------------------------------
# Data


def _write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _topic_lines(rng, n, labels=("a", "b", "c"), noise=True):
    """Each label owns 8 words; a line is 6 of its label's words plus 3 shared noise words."""
    lines = []
    for _ in range(n):
        label = labels[rng.integers(len(labels))]
        words = [f"{label}{i}" for i in rng.integers(0, 8, size=6)]
        if noise:
            words += [f"the{i}" for i in rng.integers(0, 5, size=3)]
        rng.shuffle(words)
        lines.append(" ".join([f"__label__{label}"] + words))
    return lines


@pytest.fixture
def separable(tmp_path):
    rng = np.random.default_rng(0)
    return _write(tmp_path / "train.txt", _topic_lines(rng, 600)), _write(tmp_path / "test.txt", _topic_lines(rng, 200))


def _config(**options):
    return SupervisedConfig(**{"dim": 16, "epochs": 5, "threads": 1, "lr": 0.5, **options})


# --------------------------------------------------------------------------------------------
# fastText's hashing


def test_word_hash_is_fasttexts_fnv1a_over_signed_bytes():
    def reference(word):
        h = 2166136261
        for b in word.encode():
            h = ((h ^ (b | 0xFFFFFF00 if b >= 128 else b)) * 16777619) & 0xFFFFFFFF
        return h
    words = ["", "a", "foo", "héllo", "日本"]
    data = np.frombuffer(b"".join(w.encode() for w in words), np.uint8).copy()
    starts = np.cumsum([0] + [len(w.encode()) for w in words]).astype(np.int64)
    hashes = fnv1a_hashes(data, starts)
    assert hashes[0] == 2166136261 and hashes[1] == 0xE40C292C
    assert list(hashes) == [reference(w) for w in words]


def _encode_line(text, word_ids, n_words, word_ngrams, buckets, eos=False):
    table = labelled._TokenTable()
    table.add_lines([text])
    stream = table.stream(eos)
    config = SupervisedConfig(word_ngrams=word_ngrams, buckets=buckets, eos=eos)
    token_word = np.array([-2 if t.startswith("__label__") else word_ids.get(t, -1) for t in stream.types], np.int32)
    return labelled._encode(stream, token_word, np.full(len(stream.types), -1, np.int32), config, n_words)


@pytest.mark.skipif(shutil.which("fasttext") is None, reason="the fastText CLI is not installed")
def test_ngram_rows_are_the_ones_fasttext_averages(tmp_path):
    fasttext = pytest.importorskip("fasttext")
    lines = ["__label__a héllo wörld foo bar", "__label__b foo baz qux héllo", "__label__a bar wörld baz"] * 3
    train = _write(tmp_path / "ng.txt", lines)
    subprocess.run(["fasttext", "supervised", "-input", str(train), "-output", str(tmp_path / "ng"), "-wordNgrams",
                    "3", "-bucket", "1000", "-dim", "5", "-epoch", "1", "-thread", "1", "-verbose", "0"], check=True)
    model = fasttext.load_model(str(tmp_path / "ng.bin"))
    inputs = np.random.default_rng(0).standard_normal((len(model.words) + 1000, 5)).astype(np.float32)
    model.set_matrices(inputs, model.get_output_matrix())
    word_ids = {w: model.get_word_id(w) for w in model.words}
    assert "</s>" in word_ids
    for text in ["foo héllo unknownword wörld bar", "x y", "héllo __label__a wörld", ""]:
        # Both end the line with </s>: its row is averaged and it forms n-grams with the last words.
        examples = _encode_line(text, word_ids, len(model.words), 3, 1000, eos=True)
        np.testing.assert_allclose(inputs[examples.rows].mean(axis=0), model.get_sentence_vector(text), atol=1e-6)


def test_ngram_rows_follow_the_words_and_unknown_words_still_form_ngrams():
    examples = _encode_line("__label__x a b zzz c", {"a": 0, "b": 1, "c": 2}, 3, 2, 100)
    rows = examples.rows
    assert list(rows[:3]) == [0, 1, 2]               # known words, in order; zzz has no row
    assert len(rows) == 3 + 3 and np.all(rows[3:] >= 3)  # a_b, b_zzz, zzz_c: 4 word tokens -> 3 bigrams
    assert examples.word_counts[0] == 3 and examples.unknown_labels[0] == 1


def test_the_end_token_closes_every_line_and_forms_ngrams():
    word_ids = {"</s>": 0, "a": 1, "b": 2}
    with_eos = _encode_line("__label__x a zzz b", word_ids, 3, 2, 100, eos=True)
    without = _encode_line("__label__x a zzz b", word_ids, 3, 2, 100)
    assert list(with_eos.rows[:3]) == [1, 2, 0]        # the words, then </s>
    assert len(with_eos.rows) == 3 + 3                  # a_zzz, zzz_b, b_</s>
    assert list(with_eos.rows[3:5]) == list(without.rows[2:4])  # the n-grams of the words are the same
    assert with_eos.word_counts[0] == 3 and without.word_counts[0] == 2
    unknown_only = _encode_line("zzz", word_ids, 3, 1, 0, eos=True)
    assert list(unknown_only.rows) == [0]                # a line of unknown words keeps its </s> row
    literal = _encode_line("a </s> b", word_ids, 3, 1, 0, eos=True)
    assert list(literal.rows) == [1, 0, 2, 0]            # a literal </s> is the same word


# --------------------------------------------------------------------------------------------
# The learning rule: one example touches only its rows (the real epoch kernel, through the trainer)

LABEL_COUNTS = np.array([30, 20, 12, 10, 9, 5, 3, 2], np.int64)  # 8 labels: an uneven label tree for hs


def _one_example_step(loss, frozen_rows=(), gold=(3, 5), min_lr=0.0, words_before=None):
    """One example ("w1 w3 w4" and its 2 bigrams, gold labels ``gold``) trained for one epoch by the trainer;
    with ``words_before``, one call of the epoch kernel at that point of the schedule instead."""
    n_words, buckets, dim = 6, 50, 8
    config = SupervisedConfig(dim=dim, word_ngrams=2, buckets=buckets, loss=loss, neg=2, threads=1, epochs=1, lr=0.5,
                              min_lr=min_lr)
    examples = _encode_line("w1 w3 w4", {f"w{i}": i for i in range(n_words)}, n_words, 2, buckets)
    examples = labelled.Examples(examples.rows, examples.row_offsets, np.array(gold, np.int32),
                                 np.array([0, len(gold)], np.int64), examples.word_counts, examples.unknown_labels)
    assert len(set(examples.rows)) == 5  # 3 words + 2 distinct bigram buckets
    rng = np.random.default_rng(1)
    inputs = rng.standard_normal((n_words + buckets, dim)).astype(np.float32)
    outputs = rng.standard_normal((n_output_rows(len(LABEL_COUNTS), loss), dim)).astype(np.float32)
    frozen = np.zeros(len(inputs), np.uint8)
    frozen[list(frozen_rows)] = 1
    data = labelled.TrainingData(Vocab([f"w{i}" for i in range(n_words)], np.ones(n_words, np.int64)),
                                 Vocab([f"__label__{i}" for i in range(len(LABEL_COUNTS))], LABEL_COUNTS),
                                 examples, 1, 0, 0)
    job = supervised_job(data, config, inputs, frozen)
    job.output_rows = outputs
    trainer = Trainer(job)
    before_in, before_out = trainer.input_rows.copy(), trainer.output_rows.copy()
    if words_before is None:
        trainer.run()
        assert trainer.finished
    else:
        model, kernel_data, samplers, settings, schedule, state = trainer.kernel_arguments(trainer.data,
                                                                                            trainer.chunk_starts)
        train_chunks(model, kernel_data, samplers, settings, schedule._replace(words_before=float(words_before)),
                     state)
    after_in, after_out = trainer.input_rows, trainer.output_rows
    changed_in = set(np.flatnonzero(np.any(after_in != before_in, axis=1)))
    changed_out = set(np.flatnonzero(np.any(after_out != before_out, axis=1)))
    return examples, (before_in, before_out), (after_in, after_out), changed_in, changed_out


def _label_path(label):
    """(inner nodes, branch labels) on ``label``'s path of the tree over LABEL_COUNTS, root first."""
    paths = huffman_paths(LABEL_COUNTS)
    first, last = paths.offsets[label], paths.offsets[label + 1]
    return paths.nodes[first:last], paths.labels[first:last]


@pytest.mark.parametrize("loss", list(SUPERVISED_LOSSES))
def test_one_example_moves_only_its_word_and_ngram_rows_and_the_label_rows_its_loss_uses(loss):
    examples, _, _, changed_in, changed_out = _one_example_step(loss)
    assert changed_in == set(examples.rows)
    if loss == "ns":    # the target (one of the gold labels 3, 5) and at most 2 noise labels
        assert len(changed_out & {3, 5}) >= 1 and 2 <= len(changed_out) <= 3
    elif loss == "hs":  # the inner nodes on the path of the target (one of the gold labels 3, 5)
        assert changed_out in ({int(n) for n in _label_path(3)[0]}, {int(n) for n in _label_path(5)[0]})
    else:               # softmax and one-vs-all score every label
        assert changed_out == set(range(8))


@pytest.mark.parametrize("label", range(len(LABEL_COUNTS)))
def test_an_hs_step_moves_exactly_the_inner_nodes_on_the_targets_path_as_word2vecs_update(label):
    examples, (in0, out0), (in1, out1), changed_in, changed_out = _one_example_step("hs", gold=(label,))
    nodes, branch = _label_path(label)
    assert changed_out == {int(n) for n in nodes} and changed_in == set(examples.rows)
    rows = examples.rows
    hidden = in0[rows].mean(axis=0)
    logits = out0[nodes] @ hidden
    tables = make_tables()  # the kernel's sigmoid: word2vec's table, 0 or 1 beyond +-MAX_LOGIT
    index = np.clip(((logits + MAX_LOGIT) * TABLE_SCALE).astype(np.int64), 0, len(tables[0]) - 1)
    sigmoid = np.where(logits >= MAX_LOGIT, 1.0, np.where(logits <= -MAX_LOGIT, 0.0, tables[0, index]))
    coeff = 0.5 * (branch - sigmoid)
    np.testing.assert_allclose(out1[nodes], out0[nodes] + np.outer(coeff, hidden), atol=1e-5)
    step = (coeff @ out0[nodes]) / len(rows)  # the gradient shared by the mean, as for every loss
    np.testing.assert_allclose(in1[rows] - in0[rows], np.tile(step, (len(rows), 1)), atol=1e-5)


def test_the_label_tree_of_the_hs_step_tests_is_uneven_and_branching():
    # Else the tests above would not tell a label's path from the first few inner nodes.
    paths = [_label_path(label)[0] for label in range(len(LABEL_COUNTS))]
    assert len({len(nodes) for nodes in paths}) > 1
    assert any(set(nodes) != set(range(len(nodes))) for nodes in paths)
    assert set(_label_path(3)[0]) != set(_label_path(5)[0])


def _assert_softmax_step(examples, before, after, lr, target=3):
    (in0, out0), (in1, out1) = before, after
    rows = examples.rows
    hidden = in0[rows].mean(axis=0)
    p = np.exp(out0 @ hidden - (out0 @ hidden).max())
    p /= p.sum()
    coeff = lr * (np.eye(len(out0))[target] - p)
    np.testing.assert_allclose(out1, out0 + np.outer(coeff, hidden), atol=1e-5)
    step = (coeff @ out0) / len(rows)  # fastText: grad scaled by 1/n, added to every input row
    np.testing.assert_allclose(in1[rows] - in0[rows], np.tile(step, (len(rows), 1)), atol=1e-5)


def test_a_softmax_step_is_fasttexts_update_with_the_gradient_shared_by_the_mean():
    examples, before, after, _, _ = _one_example_step("softmax", gold=(3,))
    _assert_softmax_step(examples, before, after, lr=0.5)


@pytest.mark.parametrize("words_before,lr", [(0.0, 0.5), (1.5, 0.275), (3.0, 0.05), (30.0, 0.05)])
def test_the_kernel_steps_with_the_learning_rate_of_its_point_in_the_schedule(words_before, lr):
    # lr 0.5 decays linearly over the example's 3 words to --min-lr 0.05, and stays there (not 0).
    examples, before, after, _, _ = _one_example_step("softmax", gold=(3,), min_lr=0.05, words_before=words_before)
    _assert_softmax_step(examples, before, after, lr=lr)


@pytest.mark.parametrize("loss", list(SUPERVISED_LOSSES))
def test_frozen_rows_take_no_gradient_in_a_step(loss):
    examples, _, _, changed_in, _ = _one_example_step(loss, frozen_rows=(1,))
    assert changed_in == set(examples.rows) - {1}


@pytest.mark.parametrize("objective", ["skipgram", "cbow", "supervised"])
def test_the_learning_rate_reaches_min_lr_at_the_end(objective, separable, topic_corpus):
    # One schedule for every objective: linear from --lr to --min-lr (not to 0), shown by the progress line.
    if objective == "supervised":
        config = _config(lr=0.2, min_lr=0.0123, epochs=3)
        trainer, _ = supervised.prepare(str(separable[0]), config)
    else:
        config = Word2VecConfig(model=objective, dim=8, epochs=3, min_count=1, threads=1, lr=0.05, min_lr=0.0123)
        trainer, _ = word2vec.prepare(str(topic_corpus), config)
    shown = io.StringIO()
    assert trainer.current_lr() == config.lr
    trainer.run(Progress(trainer.total, 1, stream=shown))
    assert trainer.finished and trainer.words_done() == trainer.total
    assert trainer.current_lr() == config.min_lr
    assert shown.getvalue().rsplit("lr: ", 1)[1].startswith("0.012300 ")


# --------------------------------------------------------------------------------------------
# Prediction: the forward pass of the loss the model was trained with

PREDICT_COUNTS = np.array([9, 7, 5, 3, 2], np.int64)  # a label tree with paths of 2 and 3 nodes


def _random_model(loss):
    rng = np.random.default_rng(7)
    n_words, n_labels, dim = 10, len(PREDICT_COUNTS), 6
    words, labels = [f"w{i}" for i in range(n_words)], [f"__label__{i}" for i in range(n_labels)]
    inputs = rng.standard_normal((n_words, dim)).astype(np.float32)
    outputs = rng.standard_normal((n_output_rows(n_labels, loss), dim)).astype(np.float32)
    return SupervisedModel(words, labels, inputs, outputs, SupervisedConfig(dim=dim, loss=loss, eos=False),
                           label_counts=PREDICT_COUNTS)


def _probabilities(model, texts=("w1 w2 w3", "w0", "w9 w4 w4 w7", "w5 w6", "unknown")):
    """The model's probabilities of ``texts`` and the hidden rows (means of the words' rows) in NumPy."""
    table = labelled._TokenTable()
    table.add_lines(texts)
    examples = model.encode(table.stream(model.config.eos))
    probabilities = model.probabilities(examples)
    assert probabilities.shape == (len(texts), len(model.labels))
    assert np.all(probabilities[-1] == 0)  # no known word: no input row, nothing predicted
    hidden = np.array([model.input_rows[[model.word_index[w] for w in text.split()]].mean(axis=0)
                       for text in texts[:-1]])
    return probabilities[:-1], hidden


def test_softmax_probabilities_are_a_distribution_equal_to_numpys_softmax():
    model = _random_model("softmax")
    probabilities, hidden = _probabilities(model)
    logits = hidden @ model.output_rows.T
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(probabilities, expected, atol=1e-5)


@pytest.mark.parametrize("loss", ["ns", "ova"])
def test_binary_logistic_probabilities_are_a_sigmoid_per_label(loss):
    model = _random_model(loss)
    probabilities, hidden = _probabilities(model)
    np.testing.assert_allclose(probabilities, 1 / (1 + np.exp(-(hidden @ model.output_rows.T))), atol=1e-5)
    assert np.any(np.abs(probabilities.sum(axis=1) - 1) > 0.1)  # independent labels, not a distribution


def test_hs_probabilities_are_a_distribution_the_product_of_the_branch_probabilities_on_each_path():
    model = _random_model("hs")
    probabilities, hidden = _probabilities(model)
    paths = huffman_paths(PREDICT_COUNTS)
    branch = 1 / (1 + np.exp(-(hidden @ model.output_rows.T)))  # p(label 1) at every inner node
    expected = np.ones_like(probabilities)
    for label in range(len(PREDICT_COUNTS)):
        for j in range(paths.offsets[label], paths.offsets[label + 1]):
            node = paths.nodes[j]
            expected[:, label] *= branch[:, node] if paths.labels[j] == 1 else 1 - branch[:, node]
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(probabilities, expected, atol=1e-5)
    assert np.all(probabilities.max(axis=1) < 0.999)  # a real spread, not one label taking everything


# --------------------------------------------------------------------------------------------
# Learning


@pytest.mark.parametrize("loss", list(SUPERVISED_LOSSES))
def test_a_separable_dataset_is_learned_perfectly(separable, loss):
    train, test = separable
    model = train_supervised(str(train), _config(loss=loss, epochs=10))
    assert model.test(str(test)) == (200, 1.0, 1.0)


def test_two_threads_learn_too(separable):
    train, test = separable
    model = train_supervised(str(train), _config(threads=2, word_ngrams=2, buckets=1000))
    n, precision, _ = model.test(str(test))
    assert n == 200 and precision == 1.0


def _multilabel_lines(rng, n):
    lines = []
    for _ in range(n):
        labels = rng.choice(list("pqrs"), size=rng.integers(1, 3), replace=False)
        words = [f"{label}{i}" for label in labels for i in rng.integers(0, 6, size=4)]
        rng.shuffle(words)
        lines.append(" ".join([f"__label__{label}" for label in labels] + words))
    return lines


def test_one_vs_all_learns_several_labels_per_line(tmp_path):
    rng = np.random.default_rng(2)
    train = _write(tmp_path / "train.txt", _multilabel_lines(rng, 800))
    test = _write(tmp_path / "test.txt", _multilabel_lines(rng, 200))
    model = train_supervised(str(train), _config(loss="ova", epochs=20))
    n, precision, recall = model.test(str(test), k=-1, threshold=0.5)
    assert n == 200 and precision > 0.97 and recall > 0.97
    labels, probs = model.predict("p1 p2 p3 r1 r4 r5", k=2)
    assert set(labels) == {"__label__p", "__label__r"} and probs.min() > 0.5


# --------------------------------------------------------------------------------------------
# Metrics, checked against counts done by hand


def test_precision_and_recall_at_k_count_like_fasttexts_meter():
    labels = ["a", "b", "c"]
    gold = [[0], [1, 2], [2], [0, 0]]          # the last line repeats its label: fastText counts it twice
    predicted = [[0, 1], [2, 0], [], [0]]
    result = score_predictions(gold, predicted, labels, k=2)
    assert (result.examples, result.gold, result.predicted, result.correct) == (4, 6, 5, 3)
    assert result.precision == 3 / 5 and result.recall == 3 / 6
    per_label = {label: (p, r, f1) for label, p, r, f1 in result.per_label()}
    assert per_label["a"] == (2 / 3, 2 / 3, 2 * 2 / 6)    # predicted 3x, right 2x; gold 3x
    assert per_label["b"] == (0.0, 0.0, 0.0)
    assert per_label["c"] == (1.0, 0.5, 2 / 3)
    assert format_test(result) == "N\t4\nP@2\t0.6\nR@2\t0.5"
    assert score_predictions([], [], labels, 1).precision != score_predictions([], [], labels, 1).precision  # nan


def _hand_made_model():
    """x -> __label__a, y -> __label__b, z -> both (sigmoids), with probabilities we can compute."""
    words, labels = ["x", "y", "z"], ["__label__a", "__label__b"]
    inputs = np.array([[4, 0], [0, 4], [4, 4]], np.float32)
    outputs = np.eye(2, dtype=np.float32)
    return SupervisedModel(words, labels, inputs, outputs, SupervisedConfig(dim=2, loss="ova"))


def test_test_scores_a_hand_written_file_as_computed_by_hand(tmp_path):
    model = _hand_made_model()
    path = _write(tmp_path / "t.txt", [
        "__label__a x",               # predicts a (k=1): right
        "__label__b x x",             # predicts a: wrong
        "__label__a __label__b z",    # predicts a (tie, lower id first): right, 1 of 2 gold
        "__label__zzz __label__b y",  # unseen label ignored; predicts b: right
        "__label__zzz y",             # only an unseen label: not scored
        "__label__a unknown",         # no known word: not scored
        "",
        "y",                          # no label: not scored
    ])
    result = model.evaluate(str(path), k=1)
    assert (result.examples, result.gold, result.predicted, result.correct) == (4, 5, 4, 3)
    assert result.unknown_label_lines == 2 and result.skipped_lines == 3
    assert model.test(str(path), k=1) == (4, 0.75, 0.6)
    # k = 2 with a threshold: sigmoid(4) = 0.982 and sigmoid(0) = 0.5 on the other label
    assert model.test(str(path), k=2, threshold=0.6) == (4, 0.8, 0.8)
    assert model.test(str(path), k=2) == (4, 5 / 8, 1.0)


def test_predict_returns_labels_and_probabilities_and_nothing_for_unknown_words():
    model = _hand_made_model()
    labels, probs = model.predict("x")
    assert labels == ("__label__a",) and probs[0] == pytest.approx(1 / (1 + np.exp(-4)))
    found = model.predict(["y z", "nothing known", "__label__a x"], k=2, threshold=0.85)  # y z: b 0.982, a 0.881
    assert [f[0] for f in found] == [("__label__b", "__label__a"), (), ("__label__a",)]


# --------------------------------------------------------------------------------------------
# Files: save, load, reproducibility, vectors, pretrained


def test_save_load_predict_gives_identical_predictions(separable, tmp_path):
    train, test = separable
    model = train_supervised(str(train), _config(word_ngrams=2, buckets=500))
    path = tmp_path / "model.fastemb"
    model.save(str(path))
    assert path.exists() and not (tmp_path / "model.fastemb.npz").exists()
    loaded = load_model(str(path))
    texts = test.read_text().splitlines()[:50] + ["a1 b2 c3", ""]
    for (l1, p1), (l2, p2) in zip(model.predict(texts, k=3), loaded.predict(texts, k=3)):
        assert l1 == l2 and np.array_equal(p1, p2)
    assert loaded.config == model.config and loaded.words == model.words and loaded.labels == model.labels
    with np.load(path, allow_pickle=False) as archive:  # no object arrays anywhere
        assert all(archive[name].dtype != object for name in archive.files)


def _cli(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


def test_one_thread_runs_with_the_same_seed_write_identical_models(separable, tmp_path):
    train, _ = separable
    matrices = []
    for run, seed in enumerate([3, 3, 4]):
        out = tmp_path / f"m{run}"
        assert _cli("supervised", train, "-o", out, "--threads", 1, "--seed", seed, "--dim", 8, "--word-ngrams", 2,
                    "--buckets", 100, "--loss", "ns", "-q").exit_code == 0
        with np.load(out, allow_pickle=False) as archive:
            matrices.append((archive["input_rows"], archive["output_rows"]))
    assert all(np.array_equal(a, b) for a, b in zip(matrices[0], matrices[1]))
    assert not np.array_equal(matrices[0][0], matrices[2][0])


def test_vectors_output_loads_in_gensim_and_fastemb(separable, tmp_path):
    gensim = pytest.importorskip("gensim")
    from fastemb.models.vectors import load_vectors
    train, _ = separable
    out, vectors_path, report = tmp_path / "m.fastemb", tmp_path / "v.txt", tmp_path / "r.json"
    result = _cli("supervised", train, "-o", out, "--vectors", vectors_path, "--report", report, "--dim", 8,
                  "--word-ngrams", 2, "--buckets", 100)
    assert result.exit_code == 0, result.output
    model = load_model(str(out))
    ours = load_vectors(str(vectors_path))
    assert ours.words == model.words and ours.dim == 8
    np.testing.assert_array_equal(ours.matrix, model.input_rows[:len(model.words)])  # word rows only
    kv = gensim.models.KeyedVectors.load_word2vec_format(str(vectors_path))
    assert len(kv) == len(model.words)
    np.testing.assert_allclose(kv["a1"], ours["a1"])
    figures = json.loads(report.read_text())
    for key in ("train_seconds", "compile_seconds", "read_seconds", "save_seconds", "words", "words_per_sec",
                "threads", "vocab_size", "version"):
        assert key in figures
    assert figures["words"] == 600 * (9 + 1) * 5  # 9 words and </s> per line
    assert ours.words[0] == "</s>"  # fastText's .vec lists </s> too (the most frequent word: one per line)


def test_frozen_pretrained_rows_stay_bit_identical_while_the_others_train(separable, tmp_path):
    from fastemb.models.vectors import load_vectors, save_vectors
    train, test = separable
    rng = np.random.default_rng(5)
    pretrained_words = ["a1", "b2", "the0", "notintraining"]
    save_vectors(str(tmp_path / "pre.txt"), pretrained_words, rng.standard_normal((4, 16)).astype(np.float32))
    pretrained = load_vectors(str(tmp_path / "pre.txt"))
    frozen = train_supervised(str(train), _config(pretrained=str(tmp_path / "pre.txt"), freeze=True))
    free = train_supervised(str(train), _config(pretrained=str(tmp_path / "pre.txt")))
    for word in ("a1", "b2", "the0"):
        row = frozen.word_index[word]
        assert np.array_equal(frozen.input_rows[row], pretrained[word])
        assert not np.array_equal(free.input_rows[free.word_index[word]], pretrained[word])
    others = [frozen.word_index[w] for w in frozen.words if w not in pretrained_words]
    assert np.all(np.any(frozen.input_rows[others] != _initial(frozen)[others], axis=1))  # every other row moved
    assert frozen.report["pretrained_rows"] == 3
    assert frozen.test(str(test))[1] == 1.0


def _initial(model):
    rows, _, _ = supervised.initial_rows(len(model.words), model.config, None, model.words)
    return rows


# --------------------------------------------------------------------------------------------
# The CLI: test and predict output, bad input


def test_cli_test_and_predict_print_fasttexts_layout(tmp_path):
    model = _hand_made_model()
    model.save(str(tmp_path / "m"))
    data = _write(tmp_path / "t.txt", ["__label__a x", "__label__b x", "__label__new y"])
    result = _cli("test", tmp_path / "m", data)
    assert result.exit_code == 0
    assert result.stdout == "N\t2\nP@1\t0.5\nR@1\t0.5\n"
    assert "1 lines" in result.stderr and "never seen in training" in result.stderr
    per_label = _cli("test", tmp_path / "m", data, "--per-label").stdout.splitlines()
    assert per_label[0] == "F1-Score : 0.666667  Precision : 0.500000  Recall : 1.000000   __label__a"
    assert per_label[1] == "F1-Score : 0.000000  Precision : --------  Recall : 0.000000   __label__b"
    lines = _write(tmp_path / "p.txt", ["x", "", "unknown words only", "z y"])
    predicted = _cli("predict", tmp_path / "m", lines, "-k", 2).stdout
    assert predicted == "__label__a __label__b\n\n\n__label__b __label__a\n"
    with_probs = _cli("predict", tmp_path / "m", lines, "--probabilities", "--threshold", "0.9").stdout.splitlines()
    assert with_probs == ["__label__a 0.982014", "", "", "__label__b 0.982014"]


def test_predict_reads_stdin_in_a_subprocess(tmp_path):
    _hand_made_model().save(str(tmp_path / "m"))
    result = run_cli("predict", tmp_path / "m", "-", "-k", 1, input_text="y\n\nx\n")
    assert result.returncode == 0 and result.stdout == "__label__b\n\n__label__a\n"


BAD_TRAINING = {
    "no_label": (["just words here", "and more"], [], "no line has a label"),
    "no_words": (["__label__a", "__label__b __label__a"], [], "labels but no words"),
    "apart": (["__label__a", "words without a label"], [], "no line has both a label and a word"),
    "loss": (["__label__a x"], ["--loss", "hinge"], "--loss must be one of"),
    "ngrams": (["__label__a x"], ["--word-ngrams", "0"], "--word-ngrams must be >= 1"),
    "dim": (["__label__a x"], ["--dim", "0"], "--dim must be"),
    "epochs": (["__label__a x"], ["--epochs", "-1"], "--epochs must be"),
    "lr": (["__label__a x"], ["--lr", "0"], "--lr must be > 0"),
    "freeze": (["__label__a x"], ["--freeze"], "--freeze needs --pretrained"),
}


@pytest.mark.parametrize("case", list(BAD_TRAINING))
def test_bad_training_input_is_one_error_line_and_leaves_the_output_alone(tmp_path, case):
    lines, options, message = BAD_TRAINING[case]
    data = _write(tmp_path / "in.txt", lines)
    out = tmp_path / "model"
    out.write_text("keep me")
    result = _cli("supervised", data, "-o", out, "-q", *options)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and message in result.stderr and result.stderr.count("\n") == 1
    assert out.read_text() == "keep me"


def test_pretrained_vectors_of_another_dimension_are_refused(tmp_path):
    from fastemb.models.vectors import save_vectors
    save_vectors(str(tmp_path / "pre.txt"), ["x"], np.ones((1, 3), np.float32))
    data = _write(tmp_path / "in.txt", ["__label__a x y"])
    result = _cli("supervised", data, "-o", tmp_path / "m", "--pretrained", tmp_path / "pre.txt", "--dim", 4)
    assert result.exit_code == 1 and "dimension 3 but --dim is 4" in result.stderr
    assert not (tmp_path / "m").exists()


def _foreign_files(tmp_path):
    (tmp_path / "text").write_text("__label__a hello\n")
    np.savez(tmp_path / "plain.npz", input_rows=np.zeros((2, 2), np.float32))
    np.save(tmp_path / "array.npy", np.zeros(3))
    model = _hand_made_model()
    model.save(str(tmp_path / "future"))
    with np.load(tmp_path / "future", allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays["format_version"] = np.array(99)
    with open(tmp_path / "future", "wb") as handle:
        np.savez(handle, **arrays)
    ours = "not a fastemb supervised model"
    return {"text": ours, "plain.npz": ours + " (no fastemb marker)", "array.npy": ours,
            "future": "model format version 99 is not supported", "missing": "no such file"}


def test_a_file_that_is_not_our_model_is_a_clear_error(tmp_path):
    data = _write(tmp_path / "in.txt", ["__label__a hello"])
    for name, message in _foreign_files(tmp_path).items():
        for command in (["test", tmp_path / name, data], ["predict", tmp_path / name, data]):
            result = _cli(*command)
            assert result.exit_code == 1, result.output
            assert result.stderr.startswith(f"Error: {tmp_path / name}: {message}"), result.stderr
            assert result.stderr.count("\n") == 1


def test_training_summary_counts_skipped_lines(tmp_path):
    data = _write(tmp_path / "in.txt", ["__label__a x y", "no label here", "__label__b", "", "__label__b y z"])
    # Without the end token, the line "__label__b" has no input row; with it (fastText) it trains on </s>.
    for options, skipped in ((["--no-eos"], "1 without a known word"), ([], "0 without a known word")):
        result = _cli("supervised", data, "-o", tmp_path / "m", "--dim", 4, *options)
        assert result.exit_code == 0, result.output
        assert f"skipped 1 lines without a label and {skipped}" in result.stdout
        model = load_model(str(tmp_path / "m"))
        assert model.report == {} and model.labels == ["__label__b", "__label__a"]
        assert ("</s>" in model.words) == (not options) and model.config.eos == (not options)


def test_compressed_input_trains_the_same_model(separable, tmp_path):
    import gzip
    train, _ = separable
    packed = tmp_path / "train.txt.gz"
    packed.write_bytes(gzip.compress(train.read_bytes()))
    plain, compressed = (train_supervised(str(path), _config(epochs=1)) for path in (train, packed))
    assert np.array_equal(plain.input_rows, compressed.input_rows) and plain.words == compressed.words


# --------------------------------------------------------------------------------------------
# Reading: the Numba tokeniser, the Python reader it falls back to, and the end token


def _training_data(path, reader, **options):
    """read_training_data through the scan reader, or forced through the Python reader."""
    config = SupervisedConfig(word_ngrams=2, buckets=50, **options)
    if reader == "python":
        original = labelled._scan_lines
        labelled._scan_lines = lambda *args: None
        try:
            return labelled.read_training_data(str(path), config)
        finally:
            labelled._scan_lines = original
    return labelled.read_training_data(str(path), config)


ODD_LINES = (b"__label__a x y\n\n  \t\n__label__b y\xc2\xa0z w\r\n__label__a \xff\xfe x\x00y \xfe\n"
             b"no label </s> here\n__label__b\n__label__c x\x0b\x0cv __label__a\n__label__b last line no newline")


@pytest.mark.parametrize("eos", [True, False])
def test_both_readers_give_identical_training_data(tmp_path, eos):
    path = tmp_path / "odd.txt"
    path.write_bytes(ODD_LINES)
    fast, slow = _training_data(path, "scan", eos=eos), _training_data(path, "python", eos=eos)
    assert (fast.reader, slow.reader) == ("scan", "python")
    for vocab in ("words", "labels"):
        ours, theirs = getattr(fast, vocab), getattr(slow, vocab)
        assert ours.words == theirs.words and np.array_equal(ours.counts, theirs.counts)
    for name in ("rows", "row_offsets", "labels", "label_offsets", "word_counts", "unknown_labels"):
        assert np.array_equal(getattr(fast.examples, name), getattr(slow.examples, name)), name
    assert (fast.lines, fast.skipped_no_label, fast.skipped_no_words) == (slow.lines, slow.skipped_no_label,
                                                                          slow.skipped_no_words)
    assert fast.lines == 7 and fast.skipped_no_label == 1
    words = fast.words.words
    assert "y\u00a0z" in words and "\ufffd" in words and "\ufffd\ufffd" in words  # ASCII whitespace only, as fastText
    # With eos, the literal </s> of the unlabelled line is the end token too; without, a plain word.
    assert fast.words.counts[words.index("</s>")] == (7 + 1 if eos else 1)  # one per non-blank line
    if eos:
        assert len(fast.examples) == 6 and fast.skipped_no_words == 0  # "__label__b" alone trains on </s>
    else:
        assert len(fast.examples) == 5 and fast.skipped_no_words == 1


def _same_data(fast, slow):
    for vocab in ("words", "labels"):
        assert getattr(fast, vocab).words == getattr(slow, vocab).words
        assert np.array_equal(getattr(fast, vocab).counts, getattr(slow, vocab).counts)
    for name in ("rows", "row_offsets", "labels", "label_offsets", "word_counts"):
        assert np.array_equal(getattr(fast.examples, name), getattr(slow.examples, name)), name
    assert (fast.truncated, fast.cut_lines) == (slow.truncated, slow.cut_lines)


def test_a_line_longer_than_the_limit_is_one_example_of_its_first_tokens(tmp_path):
    from fastemb.base.limits import MAX_LINE_TOKENS
    words = [f"w{i % 7}" for i in range(MAX_LINE_TOKENS + 5)] + ["only_past_the_cut", "__label__c"]
    path = _write(tmp_path / "long.txt", ["__label__a " + " ".join(words), "__label__b w1 w2"])
    fast, slow = _training_data(path, "scan"), _training_data(path, "python")
    assert fast.reader == "scan" and len(fast.examples) == 2 and fast.cut_lines == 1
    assert list(fast.examples.word_counts) == [MAX_LINE_TOKENS - 1 + 1, 3]  # the label is one of the tokens kept
    assert list(fast.examples.n_labels) == [1, 1]
    assert "only_past_the_cut" not in fast.words.words and "__label__c" not in fast.labels.words
    _same_data(fast, slow)


def test_a_token_longer_than_the_limit_is_cut_by_both_readers(tmp_path):
    from fastemb.base.limits import MAX_TOKEN_BYTES
    long_a, long_b = "a" * (MAX_TOKEN_BYTES + 1), "a" * (MAX_TOKEN_BYTES + 2)
    path = _write(tmp_path / "t.txt", [f"__label__a {long_a} x", f"__label__b {long_b} y"])
    fast, slow = _training_data(path, "scan"), _training_data(path, "python")
    assert fast.reader == "scan" and fast.truncated == 2
    assert "a" * MAX_TOKEN_BYTES in fast.words.words and max(map(len, fast.words.words)) == MAX_TOKEN_BYTES
    _same_data(fast, slow)


def test_lines_of_unknown_words_and_blank_lines_predict_from_the_end_token(separable, tmp_path):
    train, _ = separable
    model = train_supervised(str(train), _config(word_ngrams=2, buckets=100))
    assert model.words[0] == "</s>" and model.config.eos
    found = model.predict(["zzz qqq", "", "a1 a2 a3"], k=1)
    assert all(len(labels) == 1 for labels, _ in found)
    logits = model.output_rows @ model.input_rows[0]  # a blank line is </s> alone
    expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    assert found[1][0] == (model.labels[int(np.argmax(expected))],)
    assert found[1][1][0] == pytest.approx(expected.max(), rel=1e-5)
    no_eos = train_supervised(str(train), _config(eos=False))
    assert "</s>" not in no_eos.words
    assert [len(labels) for labels, _ in no_eos.predict(["zzz qqq", "", "a1 a2 a3"])] == [0, 0, 1]
    model.save(str(tmp_path / "m"))
    lines = _write(tmp_path / "p.txt", ["zzz", "", "a1 a2"])
    predicted = _cli("predict", tmp_path / "m", lines).stdout.splitlines()
    assert len(predicted) == 3 and all(line.startswith("__label__") for line in predicted)
    scored = _write(tmp_path / "s.txt", ["__label__a zzz", "__label__a a1 a2", "", "zzz"])
    assert model.test(str(scored))[0] == 2  # the line of unknown words is scored too, as fastText's test


def test_a_model_saved_before_the_end_token_loads_without_it(tmp_path):
    model = _hand_made_model()
    model.save(str(tmp_path / "old"))
    with np.load(tmp_path / "old", allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    config = json.loads(str(arrays["config"]))
    del config["eos"]
    arrays["config"] = np.array(json.dumps(config))
    with open(tmp_path / "old", "wb") as handle:
        np.savez(handle, **arrays)
    assert load_model(str(tmp_path / "old")).config.eos is False


def test_warmup_compiles_the_supervised_kernels_too():
    result = _cli("warmup")
    assert result.exit_code == 0 and "classifier" in result.stdout
    assert supervised.warm_up() < 5.0  # now loaded: no compiling left
