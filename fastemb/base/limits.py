"""Settings checked before any work: numbers that make sense, tables that fit in memory, real cores.

A setting the kernels cannot live with (a window of a million words: 2 x window
context rows per thread; a learning rate of 1e30: every row diverges) is refused
before the corpus is read, and the tables' size is compared with the memory
available before they are allocated, so a run fails in a second with the figure
rather than after an hour, or with a MemoryError.
"""
from __future__ import annotations

import math
import numbers
import os
from dataclasses import fields

from .errors import FastembError

INT64_MAX = 2**63 - 1
# The limit table: what every reader and writer of text and models holds to (the corpus, labelled lines,
# vector files, checkpoints, fastText .bin files), so that what one part writes every other part reads.
MAX_TOKEN_BYTES = 1_000  # longer "words" are binary junk: every reader keeps a token's first 1,000 bytes
MAX_SENTENCE = 10_000  # as gensim (MAX_WORDS_IN_BATCH): a longer line becomes several word2vec sentences ...
MAX_LINE_TOKENS = MAX_SENTENCE  # ... and a classifier's example keeps a line's first 10,000 tokens
MAX_NGRAM_CHARS = 32   # --maxn: a word's character n-grams are up to maxn x its length (fastText's maxn is 6)
MAX_WORD_NGRAMS = 32   # --word-ngrams: a line's n-gram rows are up to word_ngrams x its tokens (fastText's: 1-5)
MAX_LR = 10.0  # an SGD step above this diverges at once (fastText and word2vec use 0.025 to 1)
CAPS = {
    "dim": 10_000,         # 4 bytes x dim x 2 rows per word: a 10^6-word vocabulary is already 80 GB
    "epochs": 10_000,      # fastText and word2vec train 5 to a few hundred; 2^62 passes would never end
    "window": 1_000,       # the kernels keep 2 x window context rows per thread
    "negative": 1_000,     # noise words per pair; the kernels keep them per window
    "neg": 1_000,
    "lr": MAX_LR,
    "min_lr": MAX_LR,
    "buckets": 2**30,      # n-gram rows follow the words' rows, and row ids are int32
    "maxn": MAX_NGRAM_CHARS,
    "minn": MAX_NGRAM_CHARS,
    "word_ngrams": MAX_WORD_NGRAMS,
}
INFINITE_OK = {"max_memory"}  # inf: every token kept in memory


def check_numbers(config) -> None:
    """Every number of a trainer's dataclass config: not NaN, finite unless that means something
    (INFINITE_OK), an integer within int64, and at most its cap (CAPS). One FastembError naming the flag."""
    for field in fields(config):
        value = getattr(config, field.name)
        if value is None or isinstance(value, (bool, str)):
            continue
        flag = "--" + field.name.replace("_", "-")
        cap = CAPS.get(field.name)
        if isinstance(value, numbers.Integral):
            check_integer(flag, int(value), high=INT64_MAX if cap is None else int(cap))
        elif isinstance(value, numbers.Real):
            value = float(value)
            if math.isnan(value):
                raise FastembError(f"{flag} must be a number, got nan")
            if math.isinf(value) and field.name not in INFINITE_OK:
                raise FastembError(f"{flag} must be a finite number, got {value}")
            if cap is not None and value > cap:
                raise FastembError(f"{flag} must be at most {cap:,}, got {value:g}")


def check_integer(flag: str, value: int, low: int = -INT64_MAX, high: int = INT64_MAX) -> None:
    """``value`` within [low, high] (by default: fits a 64-bit integer, as the kernels take it)."""
    if value > high:
        raise FastembError(f"{flag} must be at most {high:,}, got {value:,}")
    if value < low:
        raise FastembError(f"{flag} must be at least {low:,}, got {value:,}")


def check_number(flag: str, value: float, positive: bool = False) -> None:
    """A float option that is not NaN (and, with ``positive``, > 0); infinity is allowed."""
    if math.isnan(value) or (positive and not value > 0):
        raise FastembError(f"{flag} must be {'> 0' if positive else 'a number'}, got {value}")


def cores() -> int:
    """CPUs this process may run on (its affinity mask, e.g. under taskset or a container's cpuset)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def usable_threads(requested: int | None, flag: str = "--threads") -> tuple[int, str | None]:
    """(threads to use, a note when ``requested`` was cut to the cores). None: all cores."""
    available = cores()
    if requested is None:
        return available, None
    check_integer(flag, requested, 1)
    if requested > available:
        return available, f"Note: {flag} {requested:,} is more than the {available} cores available; using {available}"
    return requested, None


def available_memory() -> int | None:
    """Bytes that can still be allocated without swapping: the kernel's MemAvailable, within the
    cgroup's limit (a container); None when neither can be read."""
    found = []
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    found.append(int(line.split()[1]) * 1024)
                    break
    except (OSError, ValueError, IndexError):
        pass
    if not found:
        try:
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (AttributeError, OSError, ValueError):
            pass
    room = _cgroup_room()
    if room is not None:
        found.append(room)
    return min(found) if found else None


def _cgroup_room() -> int | None:
    """cgroup v2: the limit less what the group holds apart from the page cache (which is reclaimed)."""
    try:
        with open("/sys/fs/cgroup/memory.max") as handle:
            limit = handle.read().strip()
        if limit == "max":
            return None
        with open("/sys/fs/cgroup/memory.current") as handle:
            current = int(handle.read())
        cache = 0
        with open("/sys/fs/cgroup/memory.stat") as handle:
            for line in handle:
                if line.startswith("file "):
                    cache = int(line.split()[1])
                    break
        return max(0, int(limit) - (current - cache))
    except (OSError, ValueError, IndexError):
        return None


def _size(nbytes: float) -> str:
    return f"{nbytes / 2**30:,.1f} GB" if nbytes >= 2**30 else f"{nbytes / 2**20:,.1f} MB"


def check_memory(nbytes: int, what: str, hint: str) -> None:
    """Refuse to allocate ``nbytes`` for ``what`` (how they add up) when less memory is available."""
    available = available_memory()
    if available is not None and nbytes > available:
        raise FastembError(f"{what} need {_size(nbytes)} but {_size(available)} of memory is available; {hint}")


def check_word2vec_tables(n_words: int, n_buckets: int, dim: int, ngram_ids: int = 0) -> None:
    """Input and output rows (2 x words, and the character n-gram buckets of a subword model) x dim x 4 bytes,
    and a subword model's lists of every word's rows (``ngram_ids`` int32 ids and an int64 offset a word)."""
    # Before reading (n_words 0) only the buckets are known, and the vocabulary is no way out.
    rows = " + ".join(part for part in ((f"2 x {n_words:,} words" if n_words else ""),
                                        (f"{n_buckets:,} buckets" if n_buckets else "")) if part)
    rows = f"({rows})" if n_words and n_buckets else rows
    lists = f" and the n-gram lists ({ngram_ids:,} ids x 4 bytes)" if ngram_ids else ""
    check_memory((2 * n_words + n_buckets) * dim * 4 + (4 * ngram_ids + 8 * n_words if ngram_ids else 0),
                 f"the tables ({rows} x {dim:,} dims x 4 bytes){lists}",
                 "lower --dim" + (" or --buckets" if n_buckets else "") + (" or --maxn" if ngram_ids else "")
                 + (", or shrink the vocabulary with --min-count or --max-vocab" if n_words else ""))


def check_supervised_tables(n_words: int, n_buckets: int, n_labels: int, dim: int) -> None:
    """Input rows (words, then n-gram buckets) and output rows (labels), x dim x 4 bytes."""
    rows = " + ".join(f"{n:,} {name}" for n, name in ((n_words, "words"), (n_buckets, "buckets"), (n_labels, "labels"))
                      if n)
    check_memory((n_words + n_buckets + n_labels) * dim * 4, f"the tables (({rows}) x {dim:,} dims x 4 bytes)",
                 "lower --dim or --buckets, or raise --min-count")


def check_example_rows(n_rows: int, n_examples: int, where: str) -> None:
    """The encoded examples of ``where``: every line's input rows (its words, then its word n-grams; int32) and
    the offsets and counts of each line (28 bytes)."""
    check_memory(4 * n_rows + 28 * n_examples,
                 f"{where}: the examples ({n_rows:,} input rows of words and word n-grams x 4 bytes)",
                 "lower --word-ngrams, or split the input")


def megabytes(n_bytes: int) -> str:
    """A size for a message: bytes below a megabyte, megabytes up to a terabyte, then powers of ten."""
    if n_bytes < 2**20:
        return f"{n_bytes:,} bytes"
    return f"{n_bytes / 2**20:,.1f} MB" if n_bytes < 2**40 else f"{n_bytes:.3g} bytes"


def check_fits_in_memory(n_bytes: int, where: str, what: str) -> None:
    """Refuse (before allocating) ``n_bytes`` that the machine cannot provide."""
    available = available_memory()
    if available is not None and n_bytes > available:
        raise FastembError(f"{where}: {what} needs {megabytes(n_bytes)}, more than the "
                           f"{megabytes(available)} of memory available")
