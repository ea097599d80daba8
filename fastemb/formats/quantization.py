"""fastText's quantized tables (the matrices of a ``.ftz``): product quantization of a table's rows, as
fastText's ``quantize`` applies it ("FastText.zip",
Joulin et al. 2016): a row is cut into subvectors of ``dsub`` dimensions (the last one shorter when
``dsub`` does not divide the dimension), and each subvector is replaced by the nearest of 256 centroids
that k-means found for its position; a row is then one byte per subvector. With ``qnorm`` the rows are
scaled to unit length first and their norms quantized apart, by a one-dimensional quantizer.

The stored form (``save``/``load``, fastText's ProductQuantizer and QuantMatrix layouts):

    quantizer  int32 dim nsubq dsub lastdsub, float32 centroids (subvector after subvector, 256 each)
    matrix     bool qnorm, int64 rows, int64 dim, int32 codesize, uint8 codes (row after row),
               quantizer, and with qnorm uint8 norm codes (one a row) and the norm's quantizer
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..base.errors import FastembError

CENTROIDS = 256            # one byte per code (fastText's ksub)
KMEANS_ITERATIONS = 25     # fastText's niter
MAX_POINTS_PER_CENTROID = 256  # k-means trains on at most this many sampled points per centroid
_ASSIGN_BLOCK_ROWS = 16384


@dataclass
class ProductQuantizer:
    """The centroids of every subvector position: ``centroids[q]`` is (CENTROIDS, width of q)."""

    dim: int
    dsub: int
    centroids: list[np.ndarray]

    @property
    def n_subvectors(self) -> int:
        return len(self.centroids)

    @staticmethod
    def widths(dim: int, dsub: int) -> list[int]:
        """The width of each subvector: ``dsub``, and the remainder last."""
        full, rest = divmod(dim, dsub)
        return [dsub] * full + ([rest] if rest else [])

    @classmethod
    def train(cls, rows: np.ndarray, dsub: int, seed: int = 1234) -> "ProductQuantizer":
        """k-means of every subvector position over ``rows`` (at least CENTROIDS of them)."""
        rows = np.ascontiguousarray(rows, dtype=np.float32)
        n, dim = rows.shape
        if not isinstance(dsub, int) or dsub <= 0:
            raise FastembError(f"dsub must be a positive integer, got {dsub!r}")
        if n < CENTROIDS:
            raise FastembError(f"a matrix of {n} rows is too small to quantize: it needs at least {CENTROIDS}")
        rng = np.random.default_rng(seed)
        sample = rows if n <= CENTROIDS * MAX_POINTS_PER_CENTROID else \
            rows[rng.choice(n, CENTROIDS * MAX_POINTS_PER_CENTROID, replace=False)]
        centroids, start = [], 0
        for width in cls.widths(dim, dsub):
            centroids.append(_kmeans(np.ascontiguousarray(sample[:, start:start + width]), rng))
            start += width
        return cls(dim, dsub, centroids)

    def encode(self, rows: np.ndarray) -> np.ndarray:
        """(rows, n_subvectors) uint8: the nearest centroid of every subvector."""
        rows = np.asarray(rows, dtype=np.float32)
        codes = np.empty((len(rows), self.n_subvectors), dtype=np.uint8)
        start = 0
        for q, centroids in enumerate(self.centroids):
            width = centroids.shape[1]
            for first in range(0, len(rows), _ASSIGN_BLOCK_ROWS):
                block = rows[first:first + _ASSIGN_BLOCK_ROWS, start:start + width]
                codes[first:first + len(block), q] = _nearest(block, centroids)
            start += width
        return codes

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """(rows, dim) float32: every subvector replaced by its centroid."""
        return np.concatenate([centroids[codes[:, q]] for q, centroids in enumerate(self.centroids)], axis=1)

    def to_bytes(self) -> bytes:
        widths = [c.shape[1] for c in self.centroids]
        header = np.array([self.dim, len(widths), self.dsub, widths[-1]], dtype="<i4").tobytes()
        return header + b"".join(np.ascontiguousarray(c, dtype="<f4").tobytes() for c in self.centroids)

    @classmethod
    def read(cls, cursor) -> "ProductQuantizer":
        """From a formats.fasttext cursor (which checks every size against the file)."""
        dim, nsubq, dsub, lastdsub = (int(v) for v in cursor.array("<i4", 4, "quantizer header"))
        if dim <= 0 or dsub <= 0 or not 0 < lastdsub <= dsub or cls.widths(dim, dsub) != \
                [dsub] * (nsubq - 1) + [lastdsub]:
            cursor.fail(f"quantizer of dim {dim}, {nsubq} subvectors of {dsub} (last {lastdsub})")
        flat = cursor.array("<f4", dim * CENTROIDS, "quantizer centroids")
        centroids, start = [], 0
        for width in cls.widths(dim, dsub):
            centroids.append(flat[start:start + CENTROIDS * width].reshape(CENTROIDS, width).astype(np.float32))
            start += CENTROIDS * width
        return cls(dim, dsub, centroids)


def _nearest(points: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    distances = (centroids * centroids).sum(axis=1)[None, :] - 2 * points @ centroids.T
    return np.argmin(distances, axis=1)


def _kmeans(points: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """CENTROIDS centroids of ``points``: started at distinct random points; a cluster left empty takes
    half of the largest one (its centroid and a slightly moved copy), as fastText's k-means does."""
    centroids = points[rng.choice(len(points), CENTROIDS, replace=False)].copy()
    for _ in range(KMEANS_ITERATIONS):
        assigned = _nearest(points, centroids)
        sizes = np.bincount(assigned, minlength=CENTROIDS)
        sums = np.zeros_like(centroids, dtype=np.float64)
        np.add.at(sums, assigned, points)
        filled = sizes > 0
        centroids[filled] = (sums[filled] / sizes[filled, None]).astype(np.float32)
        for empty in np.flatnonzero(~filled):
            largest = int(np.argmax(sizes))
            nudge = np.float32(1.0 / 1024) * rng.choice([-1, 1], centroids.shape[1]).astype(np.float32)
            centroids[empty] = centroids[largest] * (1 + nudge)
            centroids[largest] = centroids[largest] * (1 - nudge)
            sizes[empty] = sizes[largest] // 2
            sizes[largest] -= sizes[empty]
    return centroids


@dataclass
class QuantizedMatrix:
    """A table as codes: ``codes`` over ``quantizer``; with ``qnorm`` the row norms as ``norm_codes`` over
    ``norm_quantizer`` (the codes then stand for unit-length rows)."""

    codes: np.ndarray
    quantizer: ProductQuantizer
    norm_codes: np.ndarray | None = None
    norm_quantizer: ProductQuantizer | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.codes), self.quantizer.dim

    @property
    def qnorm(self) -> bool:
        return self.norm_codes is not None

    @classmethod
    def quantize(cls, rows: np.ndarray, dsub: int, qnorm: bool = False) -> "QuantizedMatrix":
        rows = np.ascontiguousarray(rows, dtype=np.float32)
        if not qnorm:
            quantizer = ProductQuantizer.train(rows, dsub)
            return cls(quantizer.encode(rows), quantizer)
        norms = np.linalg.norm(rows, axis=1).astype(np.float32)[:, None]
        unit = rows / np.where(norms > 0, norms, 1)
        quantizer, norm_quantizer = ProductQuantizer.train(unit, dsub), ProductQuantizer.train(norms, 1)
        return cls(quantizer.encode(unit), quantizer, norm_quantizer.encode(norms)[:, 0], norm_quantizer)

    def to_bytes(self) -> bytes:
        rows, dim = self.shape
        parts = [np.array([self.qnorm], np.uint8).tobytes(), np.array([rows, dim], "<i8").tobytes(),
                 np.array([self.codes.size], "<i4").tobytes(), np.ascontiguousarray(self.codes).tobytes(),
                 self.quantizer.to_bytes()]
        if self.qnorm:
            parts += [np.ascontiguousarray(self.norm_codes).tobytes(), self.norm_quantizer.to_bytes()]
        return b"".join(parts)

    @classmethod
    def read(cls, cursor) -> "QuantizedMatrix":
        qnorm = cursor.flag("quantized matrix norm flag")
        rows, dim = (int(v) for v in cursor.array("<i8", 2, "quantized matrix header"))
        codesize = int(cursor.array("<i4", 1, "quantized matrix header")[0])
        if rows < 0 or dim <= 0 or codesize < 0:
            cursor.fail(f"quantized matrix of {rows} x {dim} with {codesize} codes")
        codes = cursor.array(np.uint8, codesize, "quantized matrix codes")
        quantizer = ProductQuantizer.read(cursor)
        if quantizer.dim != dim or codesize != rows * quantizer.n_subvectors:
            cursor.fail(f"quantized matrix of {rows} x {dim} with {codesize} codes over a quantizer of dim "
                        f"{quantizer.dim} with {quantizer.n_subvectors} subvectors")
        matrix = cls(codes.reshape(rows, quantizer.n_subvectors).copy(), quantizer)
        if qnorm:
            matrix.norm_codes = cursor.array(np.uint8, rows, "quantized norms").copy()
            matrix.norm_quantizer = ProductQuantizer.read(cursor)
            if matrix.norm_quantizer.dim != 1:
                cursor.fail(f"norm quantizer of dim {matrix.norm_quantizer.dim}")
        return matrix

    def decode(self) -> np.ndarray:
        """(rows, dim) float32: the rows the codes stand for."""
        rows = self.quantizer.decode(self.codes)
        if self.qnorm:
            rows *= self.norm_quantizer.decode(self.norm_codes[:, None])
        return rows
