"""Random streams and the two samplers of word2vec: frequent-word subsampling and noise words.

Randomness is counter-based: every chunk of the corpus starts its own stream from
(seed, epoch, chunk), so a run is reproducible whatever thread takes the chunk,
and a stopped run can restart at any chunk boundary.

Both samplers compare 32 random bits with precomputed uint32-scale thresholds:
no division, no floating point, no 400 MB table in the hot loop.
"""
from __future__ import annotations

import numpy as np
from numba import prange

from .compiling import kernel

jit = kernel(fastmath=True)

TWO_32 = 1 << 32
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_STAR = np.uint64(0x2545F4914F6CDD1D)


@jit
def stream_seed(seed, epoch, chunk):
    """A well-mixed, non-zero 64-bit state for one chunk's stream (splitmix64 finaliser)."""
    z = np.uint64(seed) * _GOLDEN + np.uint64(epoch) * _MIX1 + np.uint64(chunk) * _MIX2 + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    z = z ^ (z >> np.uint64(31))
    return z if z != np.uint64(0) else _GOLDEN


@jit
def next_random(state):
    """xorshift64*: returns (new_state, 32 random bits as uint64)."""
    state ^= state >> np.uint64(12)
    state ^= state << np.uint64(25)
    state ^= state >> np.uint64(27)
    return state, (state * _STAR) >> np.uint64(32)


@jit
def below(bits32, n):
    """Map 32 random bits to [0, n) by multiply-shift (Lemire), avoiding a modulo."""
    return np.int64((bits32 * np.uint64(n)) >> np.uint64(32))


@jit
def draw_alias(bits_a, bits_b, alias_threshold, alias_index):
    """One draw from a Walker alias table: a column, then the column's own id or its alias."""
    column = below(bits_a, alias_threshold.shape[0])
    if bits_b < alias_threshold[column]:
        return column
    return np.int64(alias_index[column])


@jit
def draw_noise(rng, alias_threshold, alias_index):
    """One noise word from the alias table; returns (word, new rng state)."""
    rng, bits_a = next_random(rng)
    rng, bits_b = next_random(rng)
    return draw_alias(bits_a, bits_b, alias_threshold, alias_index), rng


def keep_thresholds(counts: np.ndarray, sample: float) -> np.ndarray:
    """word2vec's subsampling: keep a word with p = (sqrt(f/t) + 1) * t/f, f its share of tokens.

    Returned as uint64 thresholds on 32 random bits (2**32 = always keep).
    """
    keep = keep_probabilities(counts, sample)
    return np.minimum(np.round(keep * TWO_32), TWO_32).astype(np.uint64)


def keep_probabilities(counts: np.ndarray, sample: float) -> np.ndarray:
    counts = np.asarray(counts, dtype=np.float64)
    if sample <= 0:
        return np.ones_like(counts)
    threshold_count = sample * counts.sum()
    with np.errstate(divide="ignore"):  # words merged from --init have count 0: always "kept", never seen
        keep = (np.sqrt(counts / threshold_count) + 1.0) * threshold_count / counts
    return np.minimum(keep, 1.0)


def noise_distribution(counts: np.ndarray, power: float = 0.75) -> np.ndarray:
    weights = np.asarray(counts, dtype=np.float64) ** power
    return weights / weights.sum()


def alias_table(probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker/Vose alias table for exact O(1) draws: (uint64 thresholds, int32 aliases).

    Two arrays of V entries (under 1 MB for 100k words) stay in cache, unlike
    word2vec's 1e8-entry unigram table.
    """
    n = len(probabilities)
    scaled = np.asarray(probabilities, dtype=np.float64) * n
    alias = np.arange(n, dtype=np.int32)
    small = [i for i in range(n) if scaled[i] < 1.0]
    large = [i for i in range(n) if scaled[i] >= 1.0]
    while small and large:
        s, l = small.pop(), large.pop()
        alias[s] = l
        scaled[l] -= 1.0 - scaled[s]
        (small if scaled[l] < 1.0 else large).append(l)
    for i in large + small:  # left-overs are 1 up to rounding
        scaled[i] = 1.0
    thresholds = np.minimum(np.round(scaled * TWO_32), TWO_32).astype(np.uint64)
    return thresholds, alias


@kernel(fastmath=True, parallel=True)
def fill_uniform(rows, low, high, seed):
    """rows = uniform(low, high), filled by all threads in blocks of 4096 rows.

    Each block has its own random stream, so the values do not depend on the thread
    count; a 10 M-bucket table fills in a fraction of the time of numpy's single thread.
    """
    n_rows, dim = rows.shape
    scale = (high - low) / 4294967296.0
    for block in prange((n_rows + 4095) // 4096):
        rng = stream_seed(seed, 1_000_003, block)
        for i in range(block * 4096, min(n_rows, (block + 1) * 4096)):
            row = rows[i]
            for d in range(dim):
                rng, bits = next_random(rng)
                row[d] = np.float32(low + bits * scale)
