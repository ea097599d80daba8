"""The two samplers of word2vec: noise words ~ unigram^0.75 and frequent-word subsampling."""
import numpy as np
from numba import njit
from scipy import stats

from fastemb.kernels import sampling


@njit(cache=False)
def _draw_noise(thresholds, aliases, n, seed):
    out = np.empty(n, np.int64)
    state = sampling.stream_seed(seed, 0, 0)
    for i in range(n):
        state, a = sampling.next_random(state)
        state, b = sampling.next_random(state)
        out[i] = sampling.draw_alias(a, b, thresholds, aliases)
    return out


@njit(cache=False)
def _kept(thresholds, word, n, seed):
    state = sampling.stream_seed(seed, 1, 2)
    kept = 0
    for _ in range(n):
        state, bits = sampling.next_random(state)
        if bits < thresholds[word]:
            kept += 1
    return kept


def _zipf_counts(n=300):
    return (1_000_000 / np.arange(1, n + 1) ** 1.1).astype(np.int64) + 1


def test_noise_words_follow_unigram_to_the_power_three_quarters():
    counts = _zipf_counts()
    expected = counts ** 0.75 / (counts ** 0.75).sum()
    draws = _draw_noise(*sampling.alias_table(sampling.noise_distribution(counts)), 2_000_000, 7)
    observed = np.bincount(draws, minlength=len(counts))
    _, p_value = stats.chisquare(observed, expected * len(draws))
    assert p_value > 0.001
    # The test has power: plain unigram frequencies are rejected.
    _, p_unigram = stats.chisquare(observed, counts / counts.sum() * len(draws))
    assert p_unigram < 1e-6


def test_keep_probability_is_word2vecs_formula():
    counts = _zipf_counts()
    sample = 1e-3
    threshold = sample * counts.sum()
    word2vec = np.minimum((np.sqrt(counts / threshold) + 1) * threshold / counts, 1.0)
    np.testing.assert_allclose(sampling.keep_probabilities(counts, sample), word2vec, rtol=1e-12)
    assert np.all(sampling.keep_probabilities(counts, 0.0) == 1.0)


def test_subsampling_keeps_words_at_that_rate():
    counts = _zipf_counts()
    thresholds = sampling.keep_thresholds(counts, 1e-3)
    keep = sampling.keep_probabilities(counts, 1e-3)
    n = 400_000
    for word in (0, 1, 5, 50):
        kept = _kept(thresholds, word, n, word)
        assert abs(kept / n - keep[word]) < 4 * np.sqrt(keep[word] * (1 - keep[word]) / n) + 1e-9
    assert _kept(thresholds, len(counts) - 1, 10_000, 3) == 10_000  # rare words are always kept


def test_streams_differ_by_chunk_and_repeat_by_seed():
    a = sampling.stream_seed(1, 0, 0)
    assert a == sampling.stream_seed(1, 0, 0)
    assert len({a, sampling.stream_seed(1, 0, 1), sampling.stream_seed(1, 1, 0), sampling.stream_seed(2, 0, 0)}) == 4
