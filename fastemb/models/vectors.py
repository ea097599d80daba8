"""Word vectors in memory, queried as gensim's KeyedVectors are (most_similar, similarity, analogies); their
files are word2vec's text and binary formats (formats/word2vec.py)."""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from ..base.checks import check_text, check_texts, check_type, shown
from ..base.errors import FastembError
from ..formats.word2vec import read_vectors, save_vectors

_SEARCH_BLOCK_ROWS = 8192


class Vectors:
    """Words and their vectors, in file order (most frequent first)."""

    def __init__(self, words: Sequence[str], matrix: np.ndarray, index: dict[str, int] | None = None):
        """``index`` (each word's row) is given by a reader that has built and checked it already."""
        self.words = check_texts(words, "words") if index is None else words
        self.matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        if self.matrix.ndim != 2 or self.matrix.shape[0] != len(self.words):
            raise FastembError(f"matrix of shape {self.matrix.shape} does not hold one row per word "
                             f"for {len(self.words)} words")
        self.index = dict(zip(self.words, range(len(self.words)))) if index is None else index
        if len(self.index) != len(self.words):
            raise FastembError("words must be unique")
        self._unit = None

    @classmethod
    def from_fasttext(cls, model) -> "Vectors":
        """Every vocabulary word's vector in a fastText ``.bin`` (a formats.fasttext.FastTextModelFile)."""
        return cls(list(model.words), model.vocabulary_vectors())

    @property
    def dim(self) -> int:
        return self.matrix.shape[1]

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word) -> bool:
        return word in self.index

    def __getitem__(self, word: str) -> np.ndarray:
        return self.matrix[self._row(word)]

    def __repr__(self) -> str:
        return f"Vectors({len(self)} words x {self.dim} dims)"

    def save(self, path: str, binary: bool = False) -> None:
        save_vectors(path, self.words, self.matrix, binary=binary)

    def _row(self, word: str) -> int:
        check_text(word, "word")
        try:
            return self.index[word]
        except KeyError:
            raise KeyError(f"word {word!r} is not in the vocabulary ({len(self)} words)") from None

    @property
    def unit_matrix(self) -> np.ndarray:
        """Rows scaled to length 1 (zero rows stay zero), computed on first use."""
        if self._unit is None:
            # float64 so that components near float32's limit do not overflow the squared norm.
            norms = np.sqrt(np.einsum("ij,ij->i", self.matrix, self.matrix, dtype=np.float64))
            norms[norms == 0] = 1
            self._unit = np.divide(self.matrix, norms[:, None], out=np.empty_like(self.matrix), casting="unsafe")
        return self._unit

    def similarity(self, word_a: str, word_b: str) -> float:
        unit = self.unit_matrix
        return float(unit[self._row(word_a)] @ unit[self._row(word_b)])

    def most_similar(self, positive: str | np.ndarray | Iterable[str] = (), topn: int = 10,
                     negative: str | Iterable[str] = (), restrict: int | None = None) -> list[tuple[str, float]]:
        """Words closest (cosine) to the mean of the unit ``positive`` minus ``negative`` vectors; ``positive``
        may also be a vector (as gensim's), then the words closest to it (itself included if it is a word's)."""
        if isinstance(positive, np.ndarray):
            if len(negative):
                raise FastembError("most_similar takes negative words with positive words, not with a vector")
            return self.nearest(positive, topn, restrict=restrict)
        positive = [positive] if isinstance(positive, str) else check_texts(positive, "positive")
        negative = [negative] if isinstance(negative, str) else check_texts(negative, "negative")
        if not positive and not negative:
            raise FastembError("most_similar needs at least one positive or negative word")
        rows = [self._row(word) for word in positive + negative]
        signs = np.array([1.0] * len(positive) + [-1.0] * len(negative), dtype=np.float32)
        query = (self.unit_matrix[rows] * signs[:, None]).mean(axis=0)
        return self._search(query, topn, set(rows), restrict)

    def analogy(self, a: str, b: str, c: str, topn: int = 10) -> list[tuple[str, float]]:
        """``a`` is to ``b`` as ``c`` is to ...? (b - a + c, gensim's 3CosAdd)."""
        return self.most_similar(positive=[b, c], negative=[a], topn=topn)

    def nearest(self, vector: np.ndarray, topn: int = 10, exclude: Iterable[str] = (),
                restrict: int | None = None) -> list[tuple[str, float]]:
        """Words closest (cosine) to an arbitrary ``vector``; words in ``exclude`` are skipped."""
        try:
            vector = np.asarray(vector, dtype=np.float32)
        except (TypeError, ValueError):
            raise FastembError(f"vector is {shown(vector)}, expected {self.dim} numbers") from None
        if vector.shape != (self.dim,):
            raise FastembError(f"vector has shape {vector.shape}, expected ({self.dim},)")
        exclude = check_texts(exclude, "exclude")
        return self._search(vector, topn, {self.index[w] for w in exclude if w in self.index}, restrict)

    def _search(self, query: np.ndarray, topn: int, excluded_rows: set[int],
                restrict: int | None) -> list[tuple[str, float]]:
        check_type(topn, "int", "topn")
        check_type(restrict, "int | None", "restrict")
        if topn <= 0:
            return []
        norm = np.linalg.norm(query)
        query = (query / norm if norm > 0 else query).astype(np.float32)
        searched = len(self) if restrict is None else max(0, min(int(restrict), len(self)))
        # Excluded rows may be among the best, so each block keeps that many extra candidates.
        keep = topn + len(excluded_rows)
        unit = self.unit_matrix
        candidate_rows, candidate_scores = [], []
        for start in range(0, searched, _SEARCH_BLOCK_ROWS):
            scores = unit[start:min(start + _SEARCH_BLOCK_ROWS, searched)] @ query
            best = np.argpartition(-scores, keep - 1)[:keep] if keep < len(scores) else np.arange(len(scores))
            candidate_rows.append(best + start)
            candidate_scores.append(scores[best])
        if not candidate_rows:
            return []
        rows, scores = np.concatenate(candidate_rows), np.concatenate(candidate_scores)
        found = []
        for i in np.lexsort((rows, -scores)):
            if rows[i] not in excluded_rows:
                found.append((self.words[rows[i]], float(scores[i])))
                if len(found) == topn:
                    break
        return found


def load_vectors(path: str, binary: bool | None = None, limit: int | None = None) -> Vectors:
    """Read a word2vec text or binary file (format detected when ``binary`` is None).

    ``limit`` keeps only the first (most frequent) words. Any malformed input
    raises FastembError naming the file, the line (or record) and the problem.
    """
    return Vectors(*read_vectors(path, binary, limit, with_index=True))


__all__ = ["Vectors", "load_vectors", "save_vectors"]
