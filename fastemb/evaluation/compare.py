"""How two embedding spaces of the same words differ: Procrustes alignment and neighbour overlap.

Typical use: skip-gram vectors (a language-model space) against the word
vectors of a supervised classifier (a task space) trained on the same text.
Both are compared over their shared vocabulary, limited to the ``max_words``
words most frequent in both, so that the work stays bounded.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from ..base.errors import FastembError
from ..models.vectors import Vectors

MAX_WORDS = 20_000
_BLOCK_SCORES = 1 << 23  # float32 similarities held per block of rows (32 MB)


@dataclass
class ChosenWord:
    """A word asked for by name: its neighbours in each space, side by side."""
    word: str
    overlap: float
    aligned_cosine: float | None
    neighbours: tuple[list[tuple[str, float]], list[tuple[str, float]]]

    def to_dict(self) -> dict:
        return {"word": self.word, "overlap": self.overlap, "aligned_cosine": self.aligned_cosine,
                "neighbours_first": [[w, s] for w, s in self.neighbours[0]],
                "neighbours_second": [[w, s] for w, s in self.neighbours[1]]}


@dataclass
class Comparison:
    names: tuple[str, str]
    sizes: tuple[int, int]
    dims: tuple[int, int]
    shared: int  # words in both vocabularies
    words: list[str]  # the compared words, most frequent in both first
    k: int
    overlap: np.ndarray = field(repr=False)  # Jaccard of the k nearest neighbours, per compared word
    aligned_cosine: np.ndarray | None = field(repr=False)  # per word after Procrustes; None: dims differ
    chosen: list[ChosenWord]
    missing: list[str]  # chosen words not in both vocabularies
    top: int = 10

    @property
    def aligned(self) -> bool:
        return self.aligned_cosine is not None

    @property
    def note(self) -> str:
        if self.aligned:
            return "orthogonal Procrustes alignment of unit-length rows (first space rotated onto the second)"
        return (f"dimensions differ ({self.dims[0]} vs {self.dims[1]}): no Procrustes alignment; "
                "neighbour overlap only")

    @property
    def chance_overlap(self) -> float:
        """Expected Jaccard of two unrelated random k-neighbour sets among the other compared words."""
        others = len(self.words) - 1
        if others <= 0:
            return 0.0
        shared = self.k * self.k / others  # expected intersection of two random k-subsets
        return shared / (2 * self.k - shared)

    def _ranked(self, most_changed: bool) -> list[tuple[str, float]]:
        # Ties (many words share an overlap) go to the more frequent word: they say more.
        order = np.lexsort((np.arange(len(self.words)), self.overlap if most_changed else -self.overlap))
        return [(self.words[i], float(self.overlap[i])) for i in order[:self.top]]

    @property
    def most_changed(self) -> list[tuple[str, float]]:
        return self._ranked(True)

    @property
    def least_changed(self) -> list[tuple[str, float]]:
        return self._ranked(False)

    def to_dict(self) -> dict:
        return {
            "first": {"file": self.names[0], "words": self.sizes[0], "dim": self.dims[0]},
            "second": {"file": self.names[1], "words": self.sizes[1], "dim": self.dims[1]},
            "shared_words": self.shared, "compared_words": len(self.words), "k": self.k,
            "aligned": self.aligned, "note": self.note,
            "mean_aligned_cosine": float(self.aligned_cosine.mean()) if self.aligned else None,
            "mean_overlap": float(self.overlap.mean()), "median_overlap": float(np.median(self.overlap)),
            "chance_overlap": self.chance_overlap,
            "most_changed": [[w, s] for w, s in self.most_changed],
            "least_changed": [[w, s] for w, s in self.least_changed],
            "chosen": [c.to_dict() for c in self.chosen], "missing": self.missing,
        }


def shared_words(first: Vectors, second: Vectors) -> list[str]:
    """Words in both, most frequent in both first: by the worse of their two ranks, then by the first's."""
    common = [w for w in first.words if w in second.index]
    return sorted(common, key=lambda w: (max(first.index[w], second.index[w]), first.index[w]))


def procrustes_cosines(first_unit: np.ndarray, second_unit: np.ndarray) -> np.ndarray:
    """Per-row cosine after rotating ``first_unit`` onto ``second_unit`` by orthogonal Procrustes."""
    from scipy.linalg import orthogonal_procrustes

    rotation, _ = orthogonal_procrustes(first_unit.astype(np.float64), second_unit.astype(np.float64))
    aligned = first_unit.astype(np.float64) @ rotation
    norms = np.linalg.norm(aligned, axis=1) * np.linalg.norm(second_unit, axis=1)
    norms[norms == 0] = 1
    return np.einsum("ij,ij->i", aligned, second_unit.astype(np.float64)) / norms


def nearest_neighbours(unit: np.ndarray, k: int) -> np.ndarray:
    """(rows, k) indices of each row's k most cosine-similar other rows (unordered), in blocks of rows."""
    rows = len(unit)
    k = min(k, rows - 1)
    found = np.empty((rows, k), dtype=np.int64)
    block = max(1, _BLOCK_SCORES // max(rows, 1))
    for start in range(0, rows, block):
        stop = min(start + block, rows)
        scores = unit[start:stop] @ unit.T
        # A word is not its own neighbour: below any cosine (and finite, for the sort in _top_k).
        scores[np.arange(stop - start), np.arange(start, stop)] = -3.0
        found[start:stop] = _top_k(scores, k)
    return found


def _top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Column indices of each row's k largest scores (ties: lower column first).

    A full argpartition of every row costs ~10 ns a score, several times the
    matrix product. Instead the k-th largest of an evenly spaced sample of
    columns (a partition of a small matrix) bounds each row's k-th largest from
    below; only the few scores at or above it (~k * columns / sample) are then
    sorted. (A flat nonzero is used: the 2-D one is ~25 times slower.)
    """
    rows, columns = scores.shape
    sample_columns = max(64 * k, 2048)
    if columns <= 4 * sample_columns:
        return np.argpartition(-scores, k - 1, axis=1)[:, :k]
    sample = np.ascontiguousarray(scores[:, ::columns // sample_columns])
    threshold = np.partition(sample, sample.shape[1] - k, axis=1)[:, sample.shape[1] - k]
    flat = np.flatnonzero(scores >= threshold[:, None])  # row-major: rows come out in order
    row, column = np.divmod(flat, columns)
    found = scores.ravel()[flat].astype(np.float64)
    # One stable sort by (row, descending score): rows are spaced wider than any score gap.
    spread = float(found.max() - found.min()) + 1.0
    order = np.argsort(row * (2 * spread) + (found.max() - found), kind="stable")
    starts = np.concatenate(([0], np.cumsum(np.bincount(row, minlength=rows))[:-1]))
    return column[order[starts[:, None] + np.arange(k)]]


def neighbour_overlap(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Jaccard index of each row's neighbour sets in two (rows, k) index arrays."""
    k = first.shape[1]
    common = np.zeros(len(first), dtype=np.int64)
    for column in range(k):  # neighbour sets hold distinct indices: count matches column by column
        common += (first == second[:, column:column + 1]).any(axis=1)
    return common / (2 * k - common)


def _scored_neighbours(unit: np.ndarray, row: int, k: int, words: list[str]) -> list[tuple[str, float]]:
    scores = unit @ unit[row]
    scores[row] = -np.inf
    best = np.argsort(-scores, kind="stable")[:k]
    return [(words[i], float(scores[i])) for i in best]


def compare_vectors(first: Vectors, second: Vectors, k: int = 10, max_words: int = MAX_WORDS,
                    words: list[str] | tuple[str, ...] = (), top: int = 10,
                    names: tuple[str, str] = ("first", "second")) -> Comparison:
    """Compare two spaces over the ``max_words`` shared words most frequent in both.

    Neighbours are searched within the compared words only, so that both
    spaces choose from the same candidates. Chosen ``words`` outside the
    ``max_words`` are added to the compared words; those missing from either
    vocabulary are listed in ``missing``.
    """
    if k < 1:
        raise FastembError(f"k must be at least 1, not {k}")
    if max_words < 2:
        raise FastembError(f"--max-words must be at least 2, not {max_words}")
    common = shared_words(first, second)
    if len(common) < 2:
        raise FastembError(f"{names[0]} and {names[1]} share {len(common)} word(s): nothing to compare "
                           "(were they trained on the same text, with the same tokenisation?)")
    compared = common[:max_words]
    listed = set(compared)
    missing = []
    for word in dict.fromkeys(words):
        if word not in first.index or word not in second.index:
            missing.append(word)
        elif word not in listed:
            compared.append(word)
            listed.add(word)
    k = min(k, len(compared) - 1)
    units = [space.unit_matrix[[space.index[w] for w in compared]] for space in (first, second)]
    aligned = procrustes_cosines(*units) if first.dim == second.dim else None
    neighbours = [nearest_neighbours(unit, k) for unit in units]
    overlap = neighbour_overlap(*neighbours)
    position = {w: i for i, w in enumerate(compared)}
    chosen = []
    for word in dict.fromkeys(words):
        if word in position:
            row = position[word]
            chosen.append(ChosenWord(word, float(overlap[row]), None if aligned is None else float(aligned[row]),
                                     tuple(_scored_neighbours(unit, row, k, compared) for unit in units)))
    return Comparison(names, (len(first), len(second)), (first.dim, second.dim), len(common), compared, k,
                      overlap, aligned, chosen, missing, top)


# --- output ---------------------------------------------------------------------------------------

def format_comparison(result: Comparison) -> str:
    first, second = (os.path.basename(n) for n in result.names)
    lines = [
        f"first:  {result.names[0]} ({result.sizes[0]:,} words x {result.dims[0]} dims)",
        f"second: {result.names[1]} ({result.sizes[1]:,} words x {result.dims[1]} dims)",
        f"shared vocabulary: {result.shared:,} words; compared: {len(result.words):,} (most frequent in both)",
    ]
    if result.aligned:
        lines.append(f"Procrustes alignment: mean cosine {result.aligned_cosine.mean():.3f} "
                     f"(median {np.median(result.aligned_cosine):.3f}) between aligned vectors")
    else:
        lines.append(result.note)
    lines.append(f"neighbour overlap@{result.k} (Jaccard): mean {result.overlap.mean():.4f}, "
                 f"median {np.median(result.overlap):.4f}; unrelated spaces would give {result.chance_overlap:.4f}")
    if result.missing:
        lines.append("not in both vocabularies: " + ", ".join(result.missing))
    most, least = result.most_changed, result.least_changed
    width = max([len(w) for w, _ in most + least] + [12])
    lines += ["", f"{'most changed':<{width}}  overlap    {'least changed':<{width}}  overlap"]
    for (word_a, score_a), (word_b, score_b) in zip(most, least):
        lines.append(f"{word_a:<{width}}  {score_a:>7.3f}    {word_b:<{width}}  {score_b:>7.3f}")
    for chosen in result.chosen:
        cosine = "" if chosen.aligned_cosine is None else f", aligned cosine {chosen.aligned_cosine:.3f}"
        lines += ["", f"{chosen.word}: overlap@{result.k} {chosen.overlap:.3f}{cosine}"]
        column = max([len(w) for w, _ in chosen.neighbours[0]] + [len(first) - 7, 10])
        lines.append(f"  {'#':>3}  {first:<{column + 7}}    {second}")
        for rank, ((word_a, score_a), (word_b, score_b)) in enumerate(zip(*chosen.neighbours), start=1):
            lines.append(f"  {rank:>3}  {word_a:<{column}} {score_a:6.3f}    {word_b} {score_b:.3f}")
    return "\n".join(lines)


def require_matplotlib() -> None:
    """Fail early, before any loading, when ``--plot`` cannot work."""
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None:
        raise FastembError("--plot needs matplotlib, which is not installed: pip install matplotlib")


def plot_comparison(first: Vectors, second: Vectors, words: list[str], path: str,
                    names: tuple[str, str] = ("first", "second")) -> None:
    """A 2-D PCA map of ``words`` in each space, side by side, written atomically to ``path``."""
    try:
        import matplotlib
        matplotlib.use("Agg")  # files only: no display needed
        import matplotlib.pyplot as plt
    except ImportError:
        raise FastembError("--plot needs matplotlib, which is not installed: pip install matplotlib") from None
    from ..base.fileio import atomic_output

    words = [w for w in dict.fromkeys(words) if w in first.index and w in second.index]
    if len(words) < 3:
        raise FastembError(f"{path}: a map needs at least 3 words in both vocabularies, found {len(words)}")
    file_format = os.path.splitext(path)[1].lstrip(".").lower() or "png"
    figure, axes = plt.subplots(1, 2, figsize=(13, 6))
    if file_format not in figure.canvas.get_supported_filetypes():
        plt.close(figure)
        raise FastembError(f"{path}: matplotlib cannot write .{file_format} files; use .png, .svg or .pdf")
    try:
        for axis, space, name in zip(axes, (first, second), names):
            points = space.unit_matrix[[space.index[w] for w in words]].astype(np.float64)
            points -= points.mean(axis=0)
            _, singular, components = np.linalg.svd(points, full_matrices=False)
            xy = points @ components[:2].T
            xy *= np.where(xy[0] < 0, -1, 1)  # PCA signs are arbitrary: put the first word top right in both
            explained = (singular[:2] ** 2).sum() / max((singular ** 2).sum(), 1e-300)
            axis.scatter(xy[:, 0], xy[:, 1], s=12, color="tab:blue")
            for word, (x, y) in zip(words, xy):
                axis.annotate(word, (x, y), fontsize=9, xytext=(3, 3), textcoords="offset points")
            axis.set_title(f"{os.path.basename(name)}  (PCA, {100 * explained:.0f}% of variance)")
            axis.margins(0.12)  # room for the labels of the outermost words
            axis.set_xticks([])
            axis.set_yticks([])
        figure.tight_layout()
        with atomic_output(path, "wb") as handle:
            figure.savefig(handle, format=file_format, dpi=120)
    finally:
        plt.close(figure)
