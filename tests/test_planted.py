"""The embedded default corpus: trained vectors must recover the relations it plants."""
import numpy as np
import pytest

from fastemb import sgns
from fastemb.vectors import Vectors

from conftest import ROOT

CORPUS = ROOT / "data" / "corpus.txt.gz"
ANALOGIES = ROOT / "data" / "analogies.txt"


def _questions():
    for line in ANALOGIES.read_text().splitlines():
        if line.strip() and not line.startswith(":"):
            yield line.split()


@pytest.fixture(scope="module")
def default_vectors():
    if not CORPUS.exists():
        pytest.skip("data/corpus.txt.gz not generated")
    model = sgns.train_skipgram(str(CORPUS), sgns.SkipGramConfig(threads=2))
    return model.vectors


@pytest.mark.parametrize("kernel", ["batched", "pair"])
def test_planted_analogies_are_answered(kernel):
    if not CORPUS.exists():
        pytest.skip("data/corpus.txt.gz not generated")
    vectors = sgns.train_skipgram(str(CORPUS), sgns.SkipGramConfig(threads=2, kernel=kernel)).vectors
    questions = list(_questions())
    assert len(questions) >= 100
    unit = vectors.unit_matrix
    index = vectors.index
    ids = np.array([[index[w] for w in q] for q in questions])
    queries = unit[ids[:, 1]] - unit[ids[:, 0]] + unit[ids[:, 2]]
    scores = queries @ unit.T
    for col in range(3):  # the question words themselves are never the answer, as in word2vec
        scores[np.arange(len(ids)), ids[:, col]] = -np.inf
    accuracy = np.mean(scores.argmax(axis=1) == ids[:, 3])
    assert accuracy >= 0.90, f"{kernel}: {accuracy:.3f}"


def test_neighbours_show_planted_pairs(default_vectors: Vectors):
    pairs = [q for q in _questions()][:40]
    close = sum(q[1] in dict(default_vectors.most_similar(q[0], topn=20)) for q in pairs)
    assert close >= 0.5 * len(pairs)
