"""Our word2vec text output in spaCy: `spacy init vectors` builds its vectors table from the file,
and the table holds our vectors and finds our neighbours.

Needs the `interop` test extra (spaCy); `make test` installs it, so CI runs this.
"""
import subprocess
import sys

import numpy as np
import pytest

from fastemb.models.vectors import load_vectors

from conftest import ROOT

spacy = pytest.importorskip("spacy", reason="spaCy is not installed (pip install -e '.[test,interop]')")


@pytest.fixture(scope="module")
def vectors_and_spacy_pipeline(tmp_path_factory):
    """Skip-gram vectors of the embedded corpus (3 epochs, dim 24) and the spaCy pipeline built from them."""
    from fastemb.base.config import Word2VecConfig
    from fastemb.training.word2vec import train_word2vec
    directory = tmp_path_factory.mktemp("interop")
    path = directory / "vectors.txt"
    model = train_word2vec(str(ROOT / "data" / "corpus.txt.gz"), Word2VecConfig(dim=24, epochs=3, threads=1, seed=2))
    model.save_vectors(str(path))
    done = subprocess.run([sys.executable, "-m", "spacy", "init", "vectors", "en", str(path), str(directory / "nlp")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return load_vectors(str(path)), spacy.load(directory / "nlp")


def test_spacy_holds_our_vectors(vectors_and_spacy_pipeline):
    ours, nlp = vectors_and_spacy_pipeline
    table = nlp.vocab.vectors
    assert table.shape == (len(ours), ours.dim)
    for word in ("king", "paris", "cars", "the", ours.words[-1]):
        theirs = table[nlp.vocab.strings[word]]
        np.testing.assert_allclose(theirs, ours[word], rtol=1e-6, atol=1e-7)  # float32 parses of one text
        assert nlp(word)[0].has_vector


def test_spacy_finds_our_nearest_neighbours(vectors_and_spacy_pipeline):
    ours, nlp = vectors_and_spacy_pipeline
    words = ["king", "paris", "cars", "swim", "good"]
    queries = np.stack([ours[word] for word in words])
    keys, _, scores = nlp.vocab.vectors.most_similar(queries, n=6)
    for word, key_row, score_row in zip(words, keys, scores):
        found = [(nlp.vocab.strings[int(key)], float(score)) for key, score in zip(key_row, score_row)]
        assert found[0][0] == word  # spaCy's nearest to a word's vector is the word itself
        expected = ours.most_similar(word, topn=5)
        assert {w for w, _ in found[1:]} == {w for w, _ in expected}, (found, expected)
        # spaCy rounds its scores to 4 decimals and sorts them: each equals our cosine so rounded, so
        # its order is ours up to words whose cosines round alike.
        for neighbour, score in found[1:]:
            assert abs(ours.similarity(word, neighbour) - score) <= 5.1e-5, (word, neighbour, score)
        assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)
