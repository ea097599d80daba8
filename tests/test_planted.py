"""The embedded default corpus: trained vectors must recover the relations it plants."""
import numpy as np
import pytest

from fastemb.base.config import Word2VecConfig
from fastemb.training.word2vec import train_word2vec
from fastemb.models.vectors import Vectors

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
    model = train_word2vec(str(CORPUS), Word2VecConfig(threads=2))
    return model.vectors


@pytest.mark.parametrize("model, kernel, loss", [("skipgram", "batched", "ns"), ("skipgram", "pair", "ns"),
                                                 ("skipgram", "batched", "hs"), ("cbow", "batched", "ns")])
def test_planted_analogies_are_answered(model, kernel, loss):
    if not CORPUS.exists():
        pytest.skip("data/corpus.txt.gz not generated")
    config = Word2VecConfig(model=model, threads=2, kernel=kernel, loss=loss)
    accuracy = _accuracy(train_word2vec(str(CORPUS), config).vectors)
    assert accuracy >= 0.90, f"{model} {kernel} {loss}: {accuracy:.3f}"


def _accuracy(vectors: Vectors) -> float:
    """3CosAdd accuracy on the planted analogies."""
    questions = list(_questions())
    assert len(questions) >= 100
    unit = vectors.unit_matrix
    index = vectors.index
    ids = np.array([[index[w] for w in q] for q in questions])
    queries = unit[ids[:, 1]] - unit[ids[:, 0]] + unit[ids[:, 2]]
    scores = queries @ unit.T
    for col in range(3):  # the question words themselves are never the answer, as in word2vec
        scores[np.arange(len(ids)), ids[:, col]] = -np.inf
    return float(np.mean(scores.argmax(axis=1) == ids[:, 3]))


def test_cbow_with_hierarchical_softmax_learns_as_much_as_gensims(tmp_path):
    # CBOW with hierarchical softmax learns these analogies far less well than with negative sampling
    # (gensim too: ~0.44 at alpha 0.05); what must hold is that fastemb's is no worse than gensim's.
    gensim = pytest.importorskip("gensim.models")
    if not CORPUS.exists():
        pytest.skip("data/corpus.txt.gz not generated")
    import gzip
    plain = tmp_path / "corpus.txt"
    plain.write_bytes(gzip.decompress(CORPUS.read_bytes()))
    theirs = gensim.Word2Vec(corpus_file=str(plain), sg=0, cbow_mean=1, hs=1, negative=0, vector_size=100,
                             window=5, min_count=5, sample=1e-3, workers=2, epochs=5, alpha=0.05, seed=1)
    ours = train_word2vec(str(CORPUS), Word2VecConfig(model="cbow", loss="hs", threads=2))
    gensim_accuracy = _accuracy(Vectors(theirs.wv.index_to_key, theirs.wv.vectors))
    accuracy = _accuracy(ours.vectors)
    assert accuracy >= gensim_accuracy - 0.05, (accuracy, gensim_accuracy)


def test_neighbours_show_planted_pairs(default_vectors: Vectors):
    pairs = [q for q in _questions()][:40]
    close = sum(q[1] in dict(default_vectors.most_similar(q[0], topn=20)) for q in pairs)
    assert close >= 0.5 * len(pairs)
