"""Reading a text corpus once into a flat int32 token array plus sentence offsets.

One pass over the file assigns each new word a provisional id in order of first
occurrence (a Numba tokeniser, no per-token Python code), so counting and
encoding happen together; :meth:`RawCorpus.encode` then maps provisional ids to
vocabulary ids with one numpy gather, dropping out-of-vocabulary tokens before
any windowing, as word2vec does.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import FastembError
from .fileio import open_binary

MAX_SENTENCE = 10_000  # word2vec's MAX_SENTENCE_LENGTH: longer lines become several sentences
MAX_TOKEN_BYTES = 1_000  # longer "words" are binary junk; cut to keep the vocabulary and files sane
BLOCK_BYTES = 1 << 24


@dataclass
class RawCorpus:
    """Every token of a file, encoded by first occurrence, before any vocabulary cut."""

    words: list[str]          # provisional id -> word, in order of first occurrence
    counts: np.ndarray        # int64, provisional id -> occurrences
    ids: np.ndarray           # int32 provisional ids of every token, in file order
    offsets: np.ndarray       # int64 sentence boundaries into ids, len = sentences + 1
    lines: int                # non-empty lines read
    truncated: int = 0        # tokens cut to MAX_TOKEN_BYTES

    @property
    def n_tokens(self) -> int:
        return len(self.ids)


@dataclass
class Corpus:
    """A corpus encoded with a vocabulary: what the trainers consume."""

    tokens: np.ndarray        # int32 vocabulary ids, out-of-vocabulary tokens removed
    offsets: np.ndarray       # int64 sentence boundaries into tokens (no empty sentences)

    @property
    def n_tokens(self) -> int:
        return len(self.tokens)

    @property
    def n_sentences(self) -> int:
        return len(self.offsets) - 1


def _blocks(handle):
    """Yield byte blocks of about BLOCK_BYTES, each cut just after a whitespace byte.

    So no token (and no UTF-8 character) is ever split between two blocks; a block
    without any whitespace (one gigantic token) is passed on whole.
    """
    pending = b""
    while True:
        data = handle.read(BLOCK_BYTES)
        if not data:
            if pending:
                yield pending
            return
        data = pending + data
        cut = max(data.rfind(b"\n"), data.rfind(b" "), data.rfind(b"\t")) + 1
        if cut == 0 and len(data) < 4 * BLOCK_BYTES:
            pending = data
            continue
        cut = cut or len(data)
        pending = data[cut:]
        yield data[:cut]


class _Encoder:
    """Growable buffers around the Numba tokeniser (see tokenize_kernel.encode_block)."""

    def __init__(self):
        from .tokenize_kernel import EMPTY
        self.slot_word = np.full(1 << 16, EMPTY, dtype=np.int64)
        self.slot_hash = np.zeros(1 << 16, dtype=np.uint64)
        self.word_bytes = np.zeros(1 << 20, dtype=np.uint8)
        self.word_start = np.zeros(1 << 15, dtype=np.int64)
        self.token_ids = np.zeros(1 << 22, dtype=np.int32)
        self.line_ends = np.zeros(1 << 14, dtype=np.int64)
        self.limits = np.array([0, 0, 0, 0, MAX_TOKEN_BYTES, 0, 0], dtype=np.int64)

    def feed(self, block: bytes) -> None:
        from .tokenize_kernel import encode_block, rehash
        data = np.frombuffer(block, dtype=np.uint8)
        self.limits[0] = 0
        while encode_block(data, (self.slot_word, self.slot_hash), (self.word_bytes, self.word_start),
                           (self.token_ids, self.line_ends), self.limits):
            _, n_words, n_tokens, n_lines = self.limits[:4]
            grew = False
            if 2 * (n_words + 1) > len(self.slot_word):
                self.slot_word, self.slot_hash = rehash(self.slot_hash, self.slot_word, 2 * len(self.slot_word))
                grew = True
            if n_words + 2 > len(self.word_start):
                self.word_start = _grown(self.word_start)
                grew = True
            if n_tokens >= len(self.token_ids):
                self.token_ids = _grown(self.token_ids)
                grew = True
            if n_lines >= len(self.line_ends):
                self.line_ends = _grown(self.line_ends)
                grew = True
            if not grew:  # only the word byte store can be short
                self.word_bytes = _grown(self.word_bytes)

    def finish(self):
        _, n_words, n_tokens, n_lines, _, line_tokens, truncated = (int(x) for x in self.limits)
        line_ends = self.line_ends[:n_lines]
        if line_tokens:
            line_ends = np.append(line_ends, n_tokens)
        starts = self.word_start[:n_words + 1]
        blob = self.word_bytes[:starts[-1]].tobytes()
        words = [blob[starts[w]:starts[w + 1]].decode("utf-8", errors="replace") for w in range(n_words)]
        return words, self.token_ids[:n_tokens].copy(), line_ends, truncated


def _grown(array: np.ndarray) -> np.ndarray:
    bigger = np.zeros(2 * len(array), dtype=array.dtype)
    bigger[:len(array)] = array
    return bigger


def sentence_offsets(line_ends: np.ndarray, max_len: int = MAX_SENTENCE) -> np.ndarray:
    """Sentence boundaries from line ends, a line longer than ``max_len`` split into pieces."""
    if len(line_ends) == 0:
        return np.zeros(1, dtype=np.int64)
    starts = np.concatenate(([0], line_ends[:-1])).astype(np.int64)
    lengths = line_ends - starts
    pieces = np.maximum((lengths + max_len - 1) // max_len, 1)
    first_piece = np.repeat(np.cumsum(pieces) - pieces, pieces)
    piece_index = np.arange(pieces.sum()) - first_piece
    ends = np.minimum(np.repeat(starts, pieces) + (piece_index + 1) * max_len, np.repeat(line_ends, pieces))
    return np.concatenate(([0], ends)).astype(np.int64)


def scan(path: str) -> RawCorpus:
    """Read ``path`` (plain, .gz, .bz2 or .xz): ASCII-whitespace tokens, one sentence per line.

    Invalid UTF-8 is replaced (U+FFFD), never fatal; tokens longer than
    MAX_TOKEN_BYTES are cut to that length and counted in ``truncated``.
    """
    encoder = _Encoder()
    try:
        with open_binary(path) as handle:
            for block in _blocks(handle):
                encoder.feed(block)
    except (OSError, EOFError, ValueError) as exc:  # corrupt archives raise these mid-read
        raise FastembError(f"{path}: cannot read ({exc})") from None
    words, ids, line_ends, truncated = encoder.finish()
    if len(set(words)) < len(words):  # distinct byte strings that decode to the same text
        ids, words = _merge_equal_words(words, ids)
    counts = np.bincount(ids, minlength=len(words)).astype(np.int64)
    return RawCorpus(words, counts, ids, sentence_offsets(line_ends), len(line_ends), truncated)


def _merge_equal_words(words: list[str], ids: np.ndarray) -> tuple[np.ndarray, list[str]]:
    first = {}
    remap = np.array([first.setdefault(w, len(first)) for w in words], dtype=np.int32)
    return remap[ids], list(first)


def encode(raw: RawCorpus, remap: np.ndarray) -> Corpus:
    """Map provisional ids through ``remap`` (-1 = out of vocabulary), dropping those tokens."""
    mapped = remap[raw.ids]
    dropped_at = np.flatnonzero(mapped < 0)
    tokens = np.delete(mapped, dropped_at) if len(dropped_at) else mapped
    offsets = raw.offsets - np.searchsorted(dropped_at, raw.offsets)
    offsets = offsets[np.concatenate(([True], np.diff(offsets) > 0))]  # sentences left empty vanish
    return Corpus(tokens.astype(np.int32, copy=False), offsets.astype(np.int64))
