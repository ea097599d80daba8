"""A corpus split between cluster workers: which lines each one reads, and word counts that merge into the
vocabulary a single process builds from the same files.

The input files, read in order, are one stream of (decompressed) bytes. Shard k holds the lines that
*start* in the k-th of n equal byte ranges of that stream: a worker seeks to its range, skips the end of a
line that began before it, and reads on past its end to finish its last line, so every line is read by
exactly one worker and no line is cut (Hadoop's input splits work the same way). A shard is a list of
:class:`Piece` (a file, or a byte range of one), in stream order.

Counts merge exactly. A single process numbers words by first occurrence and sorts the vocabulary by
count, ties in that order (vocab.Vocab.build). Shards are contiguous stretches of the stream, in order,
so a word's first occurrence in the whole corpus is its first occurrence in the first shard that has
it: each shard's table carries (shard index, first-occurrence rank in the shard) per word, merging adds
the counts and keeps the smallest key, and sorting the merged words by key gives the single process's
first-occurrence order. (Past ``--max-words`` distinct words a shard prunes its rarest words, as one
process would, but at other moments: then the vocabularies can differ, and the report says so.)
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from ..base.errors import FastembError
from ..base.fileio import open_binary
from ..text.vocab import Vocab, positions

COMPRESSED = (".gz", ".bz2", ".xz")
RANK_BITS = 40  # a shard has fewer than 2**40 distinct words; its index goes above them in a word's key


def is_url(path: str) -> bool:
    """An fsspec URL (s3://, gs://, hdfs://, https://, file://, ...) rather than a local path."""
    return "://" in str(path)


def expand_inputs_or_urls(args) -> list[str]:
    """The INPUT arguments of a distributed run: local files as fileio.expand_inputs gives them (checked,
    quoted patterns expanded), URLs as they are or, with a pattern, the objects it matches (sorted)."""
    from ..base.fileio import expand_inputs
    paths: list[str] = []
    for arg in args:
        if not is_url(arg):
            paths.extend(expand_inputs([arg]))
        elif any(char in arg for char in "*?["):
            fs, pattern = _url_fs(arg)
            matches = sorted(fs.unstrip_protocol(match) for match in fs.glob(pattern))
            if not matches:
                raise FastembError(f"{arg}: no object matches this pattern")
            paths.extend(matches)
        else:
            paths.append(arg)
    return paths


def _fsspec(path: str):
    try:
        import fsspec
    except ImportError:
        raise FastembError(f"{path}: reading URLs needs fsspec (pip install fsspec, and the package of the "
                           "URL's protocol, e.g. s3fs)") from None
    return fsspec


def _url_fs(url: str):
    """(the fsspec file system of ``url``, the path in it)."""
    fsspec = _fsspec(url)
    try:
        return fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as exc:
        raise FastembError(f"{url}: no fsspec file system for this URL ({exc})") from None


def open_stream(path: str):
    """The bytes of ``path`` as the tokeniser reads them: a local file (decompressed by its extension), or
    an fsspec URL (its driver must be installed where the URL is read)."""
    if not is_url(path):
        return open_binary(path)
    fsspec = _fsspec(path)
    try:
        return fsspec.open(path, "rb", compression="infer").open()
    except (OSError, ValueError, ImportError) as exc:
        raise FastembError(f"{path}: cannot open ({exc})") from None


def stream_bytes(path: str) -> int:
    """Bytes of ``path``'s stream: its size, or for a compressed file its length once decompressed (read
    through once: gzip, bzip2 and xz do not say it)."""
    compressed = os.path.splitext(str(path))[1].lower() in COMPRESSED
    if not compressed and not is_url(path):
        return os.path.getsize(path)
    if not compressed:
        fs, inner = _url_fs(path)
        try:
            return int(fs.size(inner))
        except OSError as exc:
            raise FastembError(f"{path}: cannot read ({exc})") from None
    total = 0
    try:
        with open_stream(path) as handle:
            while block := handle.read(1 << 22):
                total += len(block)
    except FastembError:  # open_stream's own, naming the path already (a FastembError is a ValueError too)
        raise
    except (OSError, EOFError, ValueError) as exc:
        raise FastembError(f"{path}: cannot read ({exc})") from None
    return total


@dataclass(frozen=True)
class Piece:
    """The lines of ``path`` that start at byte ``start`` or later and before ``end`` (None: to the end)."""

    path: str
    start: int = 0
    end: int | None = None

    def __str__(self) -> str:
        if self.start == 0 and self.end is None:
            return self.path
        return f"{self.path} (bytes {self.start:,} to {'the end' if self.end is None else f'{self.end:,}'})"

    def to_dict(self) -> dict:
        return {"path": self.path, "start": self.start, "end": self.end}


class _LineRange:
    """A binary stream's lines that start in [start, end), read as a file (``read(n)``) and closed with it."""

    def __init__(self, stream, start: int, end: int | None):
        self.stream, self.end = stream, end
        self.position = start  # stream offset of the next byte not yet taken from the stream or ``buffer``
        self.buffer = b""
        self.last = b""  # the last byte handed out before ``end``
        self.tail = self.done = False
        if start > 0:  # keep the line that starts at ``start`` only if the byte before it ends a line
            stream.seek(start - 1)
            self.position = start - 1
            while not self.done:
                data = stream.read(1 << 16)
                newline = data.find(b"\n")
                if newline >= 0:
                    self.buffer, self.position = data[newline + 1:], self.position + newline + 1
                    break
                self.position += len(data)
                self.done = not data

    def read(self, size: int = -1) -> bytes:
        while not self.done:
            if not self.buffer:
                self.buffer = self.stream.read(size if size and size > 0 else 1 << 20)
                if not self.buffer:
                    break
            data, self.buffer = self.buffer, b""
            if self.end is None:
                return data
            if not self.tail:
                room = self.end - self.position
                if room > 0:
                    self.buffer = data[room:]
                    data = data[:room]
                    self.position += len(data)
                    self.last = data[-1:]
                    return data
                self.tail = True  # at ``end``: only the rest of a line that started before it
                if self.last in (b"", b"\n"):
                    break
            newline = data.find(b"\n")
            if newline >= 0:
                self.done = True
                return data[:newline + 1]
            return data
        self.done = True
        return b""

    def close(self) -> None:
        self.stream.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_piece(piece: Piece):
    """A context manager reading the lines of ``piece`` (see :class:`Piece`)."""
    return _LineRange(open_stream(piece.path), piece.start, piece.end)


def plan_shards(paths: list[str], sizes: list[int], n: int) -> list[list[Piece]]:
    """``n`` shards of about equal bytes: shard k holds the lines starting in the k-th n-th of the stream
    made of ``paths`` (of ``sizes`` bytes, decompressed) in order. A shard can be empty (a tiny corpus)."""
    total = sum(sizes)
    cuts = [total * k // n for k in range(n + 1)]
    shards = []
    for k in range(n):
        pieces, offset = [], 0
        for path, size in zip(paths, sizes):
            low, high = max(cuts[k], offset), min(cuts[k + 1], offset + size)
            if low < high:
                start, end = low - offset, high - offset
                pieces.append(Piece(path, start, None if end == size else end))
            offset += size
        shards.append(pieces)
    return shards


@dataclass
class WordCounts:
    """A shard's words (or several shards' merged), their counts and first-occurrence keys, and what reading saw."""

    words: list[str]
    counts: np.ndarray            # int64
    first: np.ndarray             # int64: shard index << RANK_BITS | rank of first occurrence in the shard
    stats: dict = field(default_factory=dict)  # tokens, lines, truncated, count_prunes (summed over shards)

    @classmethod
    def of(cls, raw, shard: int) -> "WordCounts":
        """The counts of a shard read by corpus.scan (``raw``, a RawCorpus), shard number ``shard``."""
        n = len(raw.words)
        return cls(list(raw.words), np.asarray(raw.counts, np.int64)[:n],
                   (np.int64(shard) << RANK_BITS) + np.arange(n, dtype=np.int64),
                   {"tokens": raw.n_tokens, "lines": raw.lines, "truncated": raw.truncated,
                    "count_prunes": raw.pruned, "sentences": len(raw.offsets) - 1})

    def merged(self, other: "WordCounts") -> "WordCounts":
        """Both tables as one: counts added, the earlier first occurrence kept."""
        at = positions(self.words, other.words).astype(np.int64)
        new = np.flatnonzero(at < 0)
        at[new] = len(self.words) + np.arange(len(new))
        counts = np.concatenate((self.counts, np.zeros(len(new), np.int64)))
        first = np.concatenate((self.first, np.full(len(new), np.iinfo(np.int64).max)))
        counts[at] += other.counts
        first[at] = np.minimum(first[at], other.first)
        stats = {key: self.stats.get(key, 0) + other.stats.get(key, 0) for key in {**self.stats, **other.stats}}
        return WordCounts(self.words + [other.words[i] for i in new], counts, first, stats)

    def in_order(self) -> tuple[list[str], np.ndarray]:
        """(the words, their counts) in order of their first occurrence in the whole corpus: a single process's."""
        order = np.argsort(self.first, kind="stable")
        return [self.words[i] for i in order], self.counts[order]

    def vocabulary(self, min_count: int, max_vocab: int | None) -> Vocab:
        """The vocabulary a single process builds from the same words: Vocab.build on the words in order."""
        return Vocab.build(*self.in_order(), min_count, max_vocab)[0]


def merge_counts(first: WordCounts, second: WordCounts) -> WordCounts:
    return first.merged(second)


class ShardedCorpus:
    """A distributed run's data as run.py and the checkpoint see it: its checksum is made of the shards'."""

    def __init__(self, infos):
        self.infos = infos
        self.offsets = np.zeros(1, np.int64)
        self.n_tokens = sum(info.tokens for info in infos)
        self.n_sentences = sum(info.sentences for info in infos)

    def blocks(self):
        for info in self.infos:
            yield np.frombuffer(info.checksum.encode(), np.uint8)

    def token_blocks(self):
        """The classifier's n-gram bucket rows that some shard's examples use (supervised.trained_bucket_ids
        reads them as it reads a single process's examples)."""
        for info in self.infos:
            yield info.details.get("used_buckets", np.zeros(0, np.int32))
