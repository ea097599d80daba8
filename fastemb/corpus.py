"""Reading a text corpus once into a flat int32 token array plus sentence offsets.

One pass over the file assigns each new word a provisional id in order of first
occurrence (C-level dict look-ups, no per-token Python code), so counting and
encoding happen together; :meth:`RawCorpus.encode` then maps provisional ids to
vocabulary ids with one numpy gather, dropping out-of-vocabulary tokens before
any windowing, as word2vec does.
"""
from __future__ import annotations

import itertools
from array import array
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from .errors import FastembError
from .fileio import open_binary

MAX_SENTENCE = 10_000  # word2vec's MAX_SENTENCE_LENGTH: longer lines become several sentences
BLOCK_BYTES = 1 << 24
_WHITESPACE = b" \t\n\r\x0b\x0c"


@dataclass
class RawCorpus:
    """Every token of a file, encoded by first occurrence, before any vocabulary cut."""

    words: list[str]          # provisional id -> word, in order of first occurrence
    counts: np.ndarray        # int64, provisional id -> occurrences
    ids: np.ndarray           # int32 provisional ids of every token, in file order
    offsets: np.ndarray       # int64 sentence boundaries into ids, len = sentences + 1
    lines: int                # non-empty lines read

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
    """Yield (text, line_ends) pieces of at most ~BLOCK_BYTES, cut after a newline.

    A block with no newline (a huge single line) is cut at its last whitespace
    instead, so no token or UTF-8 character is ever split; ``line_ends`` tells
    whether the piece ends a line.
    """
    pending = b""
    while True:
        data = handle.read(BLOCK_BYTES)
        if not data:
            if pending:
                yield pending.decode("utf-8", errors="replace"), True
            return
        data = pending + data
        cut = data.rfind(b"\n") + 1
        if cut:
            pending = data[cut:]
            yield data[:cut].decode("utf-8", errors="replace"), True
            continue
        cut = max(data.rfind(bytes([c])) for c in _WHITESPACE) + 1
        if cut == 0 and len(data) < 4 * BLOCK_BYTES:
            pending = data  # one enormous token so far: read on before cutting
            continue
        cut = cut or len(data)
        pending = data[cut:]
        yield data[:cut].decode("utf-8", errors="replace"), False


def scan(path: str) -> RawCorpus:
    """Read ``path`` (plain, .gz, .bz2 or .xz), whitespace-tokenised, one sentence per line."""
    word_ids = defaultdict(itertools.count().__next__)
    lookup = word_ids.__getitem__
    ids = array("i")
    offsets = array("q", [0])
    line_start = 0
    lines = 0
    try:
        with open_binary(path) as handle:
            for text, ends_line in _blocks(handle):
                pieces = text.split("\n")
                if ends_line and pieces and pieces[-1] == "":
                    pieces.pop()
                for k, piece in enumerate(pieces):
                    ids.extend(map(lookup, piece.split()))
                    if k == len(pieces) - 1 and not ends_line:
                        break  # the line goes on in the next block
                    n = len(ids) - line_start
                    if n:
                        lines += 1
                        offsets.extend(range(line_start + MAX_SENTENCE, line_start + n, MAX_SENTENCE))
                        offsets.append(len(ids))
                        line_start = len(ids)
    except (OSError, EOFError, ValueError) as exc:  # corrupt archives raise these mid-read
        raise FastembError(f"{path}: cannot read ({exc})") from None
    if len(ids) != line_start:  # defensive: a trailing unterminated piece
        offsets.append(len(ids))
    provisional = np.frombuffer(ids, dtype=np.int32).copy() if len(ids) else np.zeros(0, np.int32)
    counts = np.bincount(provisional, minlength=len(word_ids)).astype(np.int64)
    return RawCorpus(list(word_ids), counts, provisional, np.frombuffer(offsets, dtype=np.int64).copy(), lines)


def encode(raw: RawCorpus, remap: np.ndarray) -> Corpus:
    """Map provisional ids through ``remap`` (-1 = out of vocabulary), dropping those tokens."""
    mapped = remap[raw.ids]
    keep = mapped >= 0
    tokens = mapped[keep].astype(np.int32, copy=False)
    kept_before = np.concatenate(([0], np.cumsum(keep, dtype=np.int64)))
    offsets = np.unique(kept_before[raw.offsets])  # collapses sentences left empty
    if len(offsets) == 0 or offsets[0] != 0:
        offsets = np.concatenate(([0], offsets))
    return Corpus(tokens, offsets.astype(np.int64))
