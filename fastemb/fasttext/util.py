"""fastText's ``fasttext.util``: precision and recall of given predictions, and the nearest of some vectors."""
from __future__ import annotations

import numpy as np

from ..base.errors import FastembError


def test(predictions, labels, k: int = 1) -> tuple[float, float]:
    """(precision, recall) of ``predictions`` (label lists, at most k each) against gold ``labels`` (label
    lists), counted as a classifier's ``test`` counts them."""
    correct = examples = gold = 0
    for predicted, expected in zip(predictions, labels):
        correct += sum(1 for label in predicted if label in expected)
        examples += 1
        gold += len(expected)
    if not examples or not gold:
        raise FastembError("util.test needs at least one example with a gold label")
    return correct / (k * examples), correct / gold


def find_nearest_neighbor(query, vectors, ban_set, cossims=None) -> int:
    """The index of the row of ``vectors`` with the largest dot product with ``query``, rows in ``ban_set``
    left out; ``cossims`` (len(vectors) floats) receives the products, if given."""
    vectors, query = np.asarray(vectors), np.asarray(query)
    if vectors.ndim != 2 or query.shape != (vectors.shape[1],):
        raise FastembError(f"query of shape {query.shape} does not match vectors of shape {vectors.shape}")
    scores = np.matmul(vectors, query, out=cossims) if cossims is not None else vectors @ query
    allowed = np.ones(len(scores), dtype=bool)
    allowed[[i for i in ban_set if 0 <= i < len(scores)]] = False
    if not allowed.any():
        raise FastembError("every vector is in ban_set: there is no neighbour to find")
    candidates = np.flatnonzero(allowed)
    return int(candidates[np.argmax(scores[candidates])])
