"""Analogy and word-pair evaluation (checked against gensim's evaluators) and the comparison of two spaces."""
import json

import numpy as np
import pytest

from fastemb.evaluation.compare import _top_k, compare_vectors, nearest_neighbours, neighbour_overlap
from fastemb.base.errors import FastembError
from fastemb.evaluation.evaluate import evaluate_analogies, evaluate_similarity, read_word_pairs, solve_analogies
from fastemb.models.vectors import Vectors

from conftest import run_cli

gensim_models = pytest.importorskip("gensim.models")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # gensim's own init_sims notice


def keyed_vectors(vectors: Vectors):
    keyed = gensim_models.KeyedVectors(vector_size=vectors.dim)
    keyed.add_vectors(vectors.words, vectors.matrix)
    return keyed


def planted_space(seed=0, dim=24, entities=40, noise=0.55, case_variants=True):
    """Three relations (x -> y) over shared entities, noisy enough that some analogies fail.

    Case variants ('Ax3') sit close to their word, so they crowd the top candidates and exercise
    gensim's rule of skipping variants of the question words; some come before the lower-case word.
    """
    rng = np.random.default_rng(seed)
    entity = rng.standard_normal((entities, dim))
    rows = {}
    for section, name in enumerate("abc"):
        offset = rng.standard_normal(dim) * 1.2
        for i in range(entities):
            rows[f"{name}x{i}"] = entity[i] + rng.standard_normal(dim) * noise
            rows[f"{name}y{i}"] = entity[i] + offset + rng.standard_normal(dim) * noise
    for i in range(300):
        rows[f"filler{i}"] = rng.standard_normal(dim) * 1.3
    words = list(rows)
    rng.shuffle(words)
    if case_variants:
        for i, word in enumerate(list(words[::9])):
            variant = word.upper() if i % 2 else word.capitalize()
            rows[variant] = rows[word] + rng.standard_normal(dim) * 0.05
            # Half of the variants are more frequent than the word itself.
            words.insert(words.index(word) + (1 if i % 3 else 0), variant)
    return Vectors(words, np.array([rows[w] for w in words], dtype=np.float32))


def write_analogy_file(path, seed=0, entities=40, questions_per_section=150):
    rng = np.random.default_rng(seed)
    lines = []
    for name in "abc":
        lines.append(f": relation-{name}")
        for _ in range(questions_per_section):
            i, j = rng.choice(entities, 2, replace=False)
            question = [f"{name}x{i}", f"{name}y{i}", f"{name}x{j}", f"{name}y{j}"]
            if rng.random() < 0.2:
                question = [w.upper() for w in question]  # case-folded like gensim
            if rng.random() < 0.08:
                question[rng.integers(4)] = f"unknown{rng.integers(5)}"  # OOV: skipped and counted
            lines.append(" ".join(question))
    lines.append(": empty-section")
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def write_pair_file(path, vectors, seed=0, pairs=120):
    rng = np.random.default_rng(seed)
    lines = ["# a comment, as gensim allows", "# word1\tword2\tscore"]
    for n in range(pairs):
        a, b = rng.choice(vectors.words, 2, replace=False)
        if n % 11 == 0:
            b = "neverseen"
        if n % 7 == 0:
            a = a.upper()
        lines.append(f"{a}\t{b}\t{rng.uniform(0, 10):.2f}")
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def gensim_counts(sections):
    return [(s["section"], len(s["correct"]), len(s["incorrect"])) for s in sections]


def our_counts(result):
    return [(s.name, s.correct, s.incorrect) for s in result.sections] + \
           [("Total accuracy", result.total.correct, result.total.incorrect)]


# --- agreement with gensim -----------------------------------------------------------------------

@pytest.mark.parametrize("restrict_vocab", [100_000, 450])
def test_analogy_counts_equal_gensims_per_section(tmp_path, restrict_vocab):
    vectors = planted_space()
    path = write_analogy_file(tmp_path / "questions.txt")
    ours = evaluate_analogies(vectors, path, restrict_vocab=restrict_vocab)
    score, theirs = keyed_vectors(vectors).evaluate_word_analogies(path, restrict_vocab=restrict_vocab)
    assert our_counts(ours) == gensim_counts(theirs)
    # The very same questions were answered right, not just as many.
    assert sorted(tuple(w.upper() for w in q) for q in ours.total.correct_questions) == sorted(theirs[-1]["correct"])
    assert ours.accuracy == pytest.approx(score)
    # The test means something: both outcomes occur, and some questions were OOV.
    assert ours.total.correct > 20 and ours.total.incorrect > 20 and ours.total.oov > 10
    if restrict_vocab < len(vectors):
        assert ours.total.oov > evaluate_analogies(vectors, path, restrict_vocab=100_000).total.oov


@pytest.mark.parametrize("every_question", [False, True])
def test_exact_ties_and_near_ties_are_settled_as_gensim_settles_them(tmp_path, monkeypatch, every_question):
    vectors = planted_space(seed=5)
    matrix = vectors.matrix.copy()
    for name in "abc":  # exact ties: copies of y-words compete as answers
        for i in range(0, 40, 4):
            matrix[vectors.index[f"{name}y{i + 1}"]] = matrix[vectors.index[f"{name}y{i}"]]
    vectors = Vectors(vectors.words, matrix)
    if every_question:  # send every question down the gensim-arithmetic path, not only near ties
        monkeypatch.setattr("fastemb.evaluation.evaluate._NEAR_TIE", 10.0)
    path = write_analogy_file(tmp_path / "questions.txt", seed=5)
    ours = evaluate_analogies(vectors, path, restrict_vocab=500)
    _, theirs = keyed_vectors(vectors).evaluate_word_analogies(path, restrict_vocab=500)
    assert our_counts(ours) == gensim_counts(theirs)
    assert sorted(tuple(w.upper() for w in q) for q in ours.total.correct_questions) == sorted(theirs[-1]["correct"])


@pytest.mark.parametrize("restrict_vocab", [300_000, 250])
def test_word_pair_correlations_equal_gensims(tmp_path, restrict_vocab):
    vectors = planted_space(seed=1)
    path = write_pair_file(tmp_path / "pairs.tsv", vectors)
    ours = evaluate_similarity(vectors, path, restrict_vocab=restrict_vocab)
    pearson, spearman, oov_ratio = keyed_vectors(vectors).evaluate_word_pairs(path, restrict_vocab=restrict_vocab)
    assert ours.spearman == pytest.approx(spearman[0], abs=1e-6)
    assert ours.pearson == pytest.approx(pearson[0], abs=1e-6)
    assert ours.spearman_pvalue == pytest.approx(spearman[1], rel=1e-4, abs=1e-9)
    assert ours.oov_ratio == pytest.approx(oov_ratio)
    assert ours.pairs == 120 and ours.oov >= 11


def test_3cosmul_top_answer_equals_gensims_most_similar_cosmul():
    vectors = planted_space(seed=2, case_variants=False)
    keyed = keyed_vectors(vectors)
    rng = np.random.default_rng(5)
    questions = rng.choice(len(vectors), size=(60, 3))
    identity = np.arange(len(vectors))
    answers = solve_analogies(vectors.unit_matrix, identity, np.c_[questions, questions[:, 0]], "3cosmul")
    for (a, b, c), answer in zip(questions, answers):
        words = [vectors.words[i] for i in (a, b, c)]
        expected = keyed.most_similar_cosmul(positive=words[1:], negative=words[:1], topn=1)[0][0]
        assert vectors.words[answer] == expected


def test_3cosmul_evaluation_counts_what_gensims_cosmul_answers(tmp_path):
    # gensim's evaluator always uses 3CosAdd, so rebuild its loop with most_similar_cosmul.
    vectors = planted_space(seed=3, case_variants=False)
    keyed = keyed_vectors(vectors)
    path = write_analogy_file(tmp_path / "questions.txt", seed=3, questions_per_section=60)
    ours = evaluate_analogies(vectors, path, restrict_vocab=len(vectors), method="3cosmul")
    correct = 0
    for line in open(path):
        words = line.split()
        if len(words) != 4 or not all(w.lower() in vectors for w in words):
            continue
        a, b, c, d = (w.lower() for w in words)
        best = keyed.most_similar_cosmul(positive=[b, c], negative=[a], topn=1)[0][0]
        correct += best == d
    assert ours.total.correct == correct and 0 < correct < ours.total.answered


# --- OOV counting and file formats ---------------------------------------------------------------

def test_oov_questions_and_pairs_are_counted_on_a_hand_made_file(tmp_path):
    words = ["man", "woman", "king", "queen", "Paris", "france", "rome", "italy", "rare"]
    rng = np.random.default_rng(0)
    matrix = rng.standard_normal((len(words), 8)).astype(np.float32)
    matrix[3] = matrix[2] - matrix[0] + matrix[1]
    vectors = Vectors(words, matrix)
    questions = tmp_path / "q.txt"
    questions.write_text(": gender\nman woman king queen\nMAN WOMAN KING QUEEN\nman woman king princess\n"
                         "man woman rare queen\n\n: capitals\nparis france rome italy\nparis france rome spain\n")
    result = evaluate_analogies(vectors, str(questions), restrict_vocab=8)  # 'rare' is the 9th word
    gender, capitals = result.sections
    assert (gender.correct, gender.incorrect, gender.oov) == (2, 0, 2)
    assert capitals.oov == 1 and capitals.answered == 1  # 'paris' found as 'Paris'
    assert result.total.questions == 6 and result.total.oov == 3
    assert result.total.accuracy_all == pytest.approx(result.total.correct / 6)
    assert evaluate_analogies(vectors, str(questions), restrict_vocab=9).total.oov == 2
    assert evaluate_analogies(vectors, str(questions), restrict_vocab=9, case_insensitive=False).total.oov == 4

    pairs = tmp_path / "p.txt"
    pairs.write_text("# comment\nman woman 3\nking queen 8\n\nparis france 9\nrare man 1\nfoo bar 2\n")
    found = evaluate_similarity(vectors, str(pairs), restrict_vocab=8)
    assert (found.pairs, found.oov, found.used) == (5, 2, 3)


def test_case_variant_of_a_question_word_is_skipped_as_gensim_does(tmp_path):
    words = ["man", "woman", "king", "KING", "queen", "x", "y"]
    e = np.eye(6)
    target = e[2] + e[1] - e[0]  # king - man + woman
    # 'KING' (cosine 0.58 with the target) beats 'queen' (0.46) as the first candidate.
    matrix = np.array([e[0], e[1], e[2], e[2] + 0.01 * e[3], e[4] + 0.3 * target, e[5], e[4] - e[5]], np.float32)
    vectors = Vectors(words, matrix)
    assert vectors.analogy("man", "woman", "king", topn=1)[0][0] == "KING"
    path = tmp_path / "q.txt"
    path.write_text(": s\nman woman king queen\n")
    assert evaluate_analogies(vectors, str(path)).total.correct == 1
    assert evaluate_analogies(vectors, str(path), case_insensitive=False).total.correct == 0
    _, theirs = keyed_vectors(vectors).evaluate_word_analogies(str(path))
    assert len(theirs[-1]["correct"]) == 1


@pytest.mark.parametrize("text, expected", [
    ("love\tsex\t6.77\ntiger\tcat\t7.35\n", [("love", "sex", 6.77), ("tiger", "cat", 7.35)]),  # WordSim353
    ("sun sunlight 50.000000\n", [("sun", "sunlight", 50.0)]),  # MEN, space-separated
    ("word1\tword2\tPOS\tSimLex999\tconc(w1)\nold\tnew\tA\t1.58\t2.72\n", [("old", "new", 1.58)]),  # SimLex-999
    ("take\tremove\tV\t6.81\tSYNONYMS\n", [("take", "remove", 6.81)]),  # SimVerb-3500
    ("squishing\tsquirt\t5.88\t7\t7\t6\n", [("squishing", "squirt", 5.88)]),  # RW: mean, then ratings
    ("access,build,2.0\n", [("access", "build", 2.0)]),  # MTurk CSV
])
def test_word_pair_layouts(tmp_path, text, expected):
    path = tmp_path / "pairs.txt"
    path.write_text(text)
    assert [(a, b, s) for _, a, b, s in read_word_pairs(str(path))] == expected


@pytest.mark.parametrize("reader, text, message", [
    ("analogies", ": s\nman woman king\n", "line 2: expected a question of 4 words"),
    ("analogies", "man woman king queen\n", "line 1: question before the first ': section' header"),
    ("analogies", "\n\n", "no analogy questions found"),
    ("pairs", "a\tb\t1\nc\td\tx\n", "line 2: no numeric score"),
    ("pairs", "a\tb\t1\nc d\n", "line 2: expected 'word1 word2 score'"),
    ("pairs", "# only comments\n", "no word pairs found"),
])
def test_malformed_eval_files_name_file_and_line(tmp_path, reader, text, message):
    vectors = Vectors(["a", "b"], np.eye(2, dtype=np.float32))
    path = tmp_path / "eval.txt"
    path.write_text(text)
    evaluate = evaluate_analogies if reader == "analogies" else evaluate_similarity
    with pytest.raises(FastembError, match=str(path)) as caught:
        evaluate(vectors, str(path))
    assert message in str(caught.value)


def test_invalid_utf8_is_reported_with_its_line(tmp_path):
    path = tmp_path / "pairs.txt"
    path.write_bytes(b"a b 1\n\xff\xfe c 2\n")
    with pytest.raises(FastembError, match=r"pairs.txt: line 2: not valid UTF-8"):
        evaluate_similarity(Vectors(["a", "b"], np.eye(2, dtype=np.float32)), str(path))


# --- comparing two spaces ------------------------------------------------------------------------

def random_space(rows=600, dim=16, seed=0):
    rng = np.random.default_rng(seed)
    return [f"w{i}" for i in range(rows)], rng.standard_normal((rows, dim)).astype(np.float32)


def test_procrustes_recovers_a_random_rotation():
    words, matrix = random_space()
    rotation, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((16, 16)))
    rotated = Vectors(words[::-1], (matrix @ rotation)[::-1])  # other file order too
    result = compare_vectors(Vectors(words, matrix), rotated, k=10)
    assert result.aligned and result.aligned_cosine.min() > 0.9999
    assert result.overlap.mean() > 0.99  # rotations keep cosines; only float rounding may swap a 10th neighbour


def test_overlap_with_itself_is_one_and_with_a_shuffled_space_near_chance():
    words, matrix = random_space(rows=2000)
    space = Vectors(words, matrix)
    assert (compare_vectors(space, space, k=10).overlap == 1).all()
    shuffled = Vectors(words, matrix[np.random.default_rng(2).permutation(len(words))])
    result = compare_vectors(space, shuffled, k=10)
    assert result.chance_overlap == pytest.approx(10 / 2 / 1999, rel=0.01)
    assert result.overlap.mean() < 3 * 10 / 2000  # chance is ~k/2N; k/N would already be twice that
    assert result.aligned_cosine.mean() < 0.3  # nothing to align


def test_different_dimensions_give_overlap_only_and_say_so():
    words, matrix = random_space()
    result = compare_vectors(Vectors(words, matrix), Vectors(words, matrix[:, :8]), k=5, words=["w3", "nope"])
    assert not result.aligned and "dimensions differ (16 vs 8)" in result.note
    assert result.to_dict()["mean_aligned_cosine"] is None
    assert result.missing == ["nope"] and result.chosen[0].word == "w3" and len(result.chosen[0].neighbours[0]) == 5


def test_max_words_bounds_the_comparison_and_chosen_words_are_added():
    words, matrix = random_space()
    result = compare_vectors(Vectors(words, matrix), Vectors(words, matrix), max_words=100, words=["w500"])
    assert len(result.words) == 101 and result.words[-1] == "w500" and result.shared == 600


def test_fast_top_k_equals_a_full_sort():
    rng = np.random.default_rng(4)
    for columns in (50, 12_000):
        scores = rng.standard_normal((30, columns)).astype(np.float32)
        expected = np.sort(np.argsort(-scores, axis=1, kind="stable")[:, :7], axis=1)
        assert (np.sort(_top_k(scores, 7), axis=1) == expected).all()
    unit = rng.standard_normal((300, 8)).astype(np.float32)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    found = nearest_neighbours(unit, 5)
    assert not (found == np.arange(300)[:, None]).any()  # never its own neighbour
    assert (neighbour_overlap(found, found[:, ::-1]) == 1).all()


# --- the command line ----------------------------------------------------------------------------

def test_cli_evaluate_compare_and_neighbors_analogy(tmp_path):
    vectors = planted_space(seed=4)
    vectors_path = tmp_path / "v.txt"
    vectors.save(str(vectors_path))
    questions = write_analogy_file(tmp_path / "q.txt", questions_per_section=20)
    pairs = write_pair_file(tmp_path / "p.tsv", vectors)

    done = run_cli("evaluate", vectors_path, "--analogies", questions, "--similarity", pairs, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    expected = evaluate_analogies(vectors, questions)
    assert report["analogies"][0]["total"]["correct"] == expected.total.correct
    assert report["similarity"][0]["spearman"] == pytest.approx(evaluate_similarity(vectors, pairs).spearman)
    table = run_cli("evaluate", vectors_path, "--analogies", questions, "--method", "3cosmul")
    assert table.returncode == 0 and "relation-a" in table.stdout and "3cosmul" in table.stdout

    other_path = tmp_path / "other.txt"
    Vectors(vectors.words[::-1], vectors.matrix[::-1, :12]).save(str(other_path))
    done = run_cli("compare", vectors_path, other_path, "--words", "ax1,ay1", "-k", "5", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["aligned"] is False and [c["word"] for c in report["chosen"]] == ["ax1", "ay1"]
    assert len(report["chosen"][0]["neighbours_second"]) == 5

    done = run_cli("neighbors", vectors_path, "--analogy", "ax1", "ay1", "ax2", "-k", "3")
    assert done.returncode == 0, done.stderr
    expected = vectors.analogy("ax1", "ay1", "ax2", topn=3)[0][0]
    assert done.stdout.startswith("ax1 : ay1 :: ax2 : ?  " + expected)

    bad = tmp_path / "bad.txt"
    bad.write_text(": s\none two three\n")
    done = run_cli("evaluate", vectors_path, "--analogies", bad)
    assert done.returncode == 1 and done.stderr.startswith(f"Error: {bad}: line 2")


@pytest.mark.slow
def test_real_eval_files_on_quickly_trained_vectors_agree_with_gensim(real_data, tmp_path):
    """Skip-gram on en-mix-small (1 M tokens, one epoch), evaluated on ../shared/data/eval as gensim would."""
    from fastemb.models.vectors import load_vectors

    runs = []
    for seed in (1, 2):
        path = tmp_path / f"v{seed}.txt"
        done = run_cli("skipgram", real_data / "en-mix-small.txt.gz", "-o", path, "--dim", "32", "--epochs", "1",
                       "--threads", "2", "--seed", seed, "--quiet")
        assert done.returncode == 0, done.stderr
        runs.append(path)
    eval_dir = real_data / "eval"
    pair_files = [eval_dir / "wordsim353.tsv", eval_dir / "EN-MEN-TR-3k.txt"]
    done = run_cli("evaluate", runs[0], "--analogies", eval_dir / "questions-words.txt", "--restrict-vocab", 5000,
                   *[arg for f in pair_files for arg in ("--similarity", f)], "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    keyed = keyed_vectors(load_vectors(str(runs[0])))
    _, sections = keyed.evaluate_word_analogies(str(eval_dir / "questions-words.txt"), restrict_vocab=5000)
    ours = [(s["section"], s["correct"], s["incorrect"]) for s in report["analogies"][0]["sections"]]
    assert ours == gensim_counts(sections)[:-1] and len(ours) == 14
    assert report["analogies"][0]["total"]["correct"] == len(sections[-1]["correct"]) > 0
    for path, found in zip(pair_files, report["similarity"]):
        pearson, spearman, oov_ratio = keyed.evaluate_word_pairs(str(path), restrict_vocab=5000)
        assert found["spearman"] == pytest.approx(spearman[0], abs=1e-6)
        assert found["pearson"] == pytest.approx(pearson[0], abs=1e-6)
        assert found["oov_ratio"] == pytest.approx(oov_ratio)
    # Two seeds learn different coordinates but much the same neighbourhoods: far above chance.
    done = run_cli("compare", runs[0], runs[1], "--max-words", 5000, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["mean_overlap"] > 20 * report["chance_overlap"] and report["mean_aligned_cosine"] > 0.3
