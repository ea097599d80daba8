"""Sentence boundaries of a large corpus in 2 bytes a sentence instead of 8.

A corpus of one-word lines has as many sentences as tokens, so int64 offsets would cost
twice its token ids, which go to disk when the corpus is large. :class:`Offsets` keeps one
uint16 length per sentence (a sentence is at most MAX_SENTENCE tokens) and the int64 offset
of every STEP-th sentence, and rebuilds any stretch of the int64 offsets from them.
"""
from __future__ import annotations

import numpy as np

from ..base.limits import MAX_SENTENCE

STEP = 1 << 16  # sentences between two stored offsets: a rebuilt stretch is at most 512 KB of int64
LENGTH = np.uint16
assert MAX_SENTENCE <= np.iinfo(LENGTH).max


class Offsets:
    """Read-only int64 sentence offsets (len = sentences + 1), as far as the corpus code indexes them:
    ``len()``, ``[i]``, ``[a:b]`` (step 1), ``[index array]`` and ``searchsorted``, all as numpy's."""

    def __init__(self, lengths: np.ndarray):
        self.lengths = np.asarray(lengths, LENGTH)
        blocks = len(self.lengths) // STEP
        marks = np.zeros(blocks + 1, np.int64)
        # A reduction casts a buffer at a time (reduceat and cumsum would cast the whole array to int64 first).
        np.cumsum(self.lengths[:blocks * STEP].reshape(blocks, STEP).sum(axis=1, dtype=np.int64), out=marks[1:])
        self.marks = marks  # the offset at sentence k * STEP
        self.total = int(self.lengths.sum(dtype=np.int64))

    def __len__(self) -> int:
        return len(self.lengths) + 1

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """The whole int64 array (8 bytes a sentence): for small corpora and tests."""
        return self._stretch(0, len(self)).astype(dtype or np.int64, copy=False)

    def longest(self) -> int:
        return int(self.lengths.max()) if len(self.lengths) else 0

    def _stretch(self, start: int, stop: int) -> np.ndarray:
        """offsets[start:stop] for 0 <= start <= stop <= len(self)."""
        out = np.empty(stop - start, np.int64)
        if stop > start:
            block = start // STEP
            total = int(self.marks[block] + self.lengths[block * STEP:start].sum(dtype=np.int64))
            out[0] = total
            for at in range(start, stop - 1, STEP):  # cumsum casts its whole input: a block at a time
                piece = out[at - start + 1:min(at + STEP, stop - 1) - start + 1]
                np.cumsum(self.lengths[at:at + len(piece)], dtype=np.int64, out=piece)
                piece += total
                total = int(piece[-1])
        return out

    def _block(self, block: int) -> np.ndarray:
        """The offsets of block ``block``'s sentences and the one after its last: offsets[k * STEP:...]."""
        start = block * STEP
        return self._stretch(start, min(start + STEP + 1, len(self)))

    def pieces(self):
        """The int64 offsets in order, a block at a time (for a checksum of the whole array)."""
        for start in range(0, len(self), STEP):
            yield self._stretch(start, min(start + STEP, len(self)))

    def __getitem__(self, key):
        if isinstance(key, slice):
            start, stop, step = key.indices(len(self))
            if step != 1:
                raise IndexError("Offsets take slices of step 1 only")
            return self._stretch(start, max(start, stop))
        if isinstance(key, (int, np.integer)):  # n_tokens asks for the last one often
            index = int(key) + len(self) if key < 0 else int(key)
            if not 0 <= index < len(self):
                raise IndexError(f"sentence offset index {key} out of range ({len(self)} offsets)")
            return self.total if index == len(self) - 1 else int(self._stretch(index, index + 1)[0])
        index = np.asarray(key, np.int64)
        flat = np.where(index < 0, index + len(self), index).ravel()
        if np.any((flat < 0) | (flat >= len(self))):
            raise IndexError(f"sentence offset index out of range (0 to {len(self) - 1})")
        out = np.empty(len(flat), np.int64)
        for block, where in _by_block(flat // STEP):
            out[where] = self._block(block)[flat[where] - block * STEP]
        return out.reshape(index.shape) if index.ndim else int(out[0])

    def searchsorted(self, values, side: str = "left"):
        """As numpy's on the int64 offsets: the blocks are found from the stored offsets, then searched."""
        values = np.asarray(values, np.int64)
        flat = values.ravel()
        out = np.zeros(len(flat), np.int64)
        blocks = self.marks.searchsorted(flat, side) - 1  # -1: before the first offset
        for block, where in _by_block(blocks):
            if block >= 0:
                out[where] = block * STEP + self._block(block).searchsorted(flat[where], side)
        return out.reshape(values.shape) if values.ndim else int(out[0])


def _by_block(blocks: np.ndarray):
    """(block, positions holding it) for each distinct value of ``blocks``."""
    order = np.argsort(blocks, kind="stable")
    sorted_blocks = blocks[order]
    for group in np.split(order, np.flatnonzero(np.diff(sorted_blocks)) + 1):
        if len(group):
            yield int(blocks[group[0]]), group


def sentence_lengths(line_lengths: np.ndarray, max_len: int = MAX_SENTENCE) -> np.ndarray:
    """Sentence lengths (uint16) from line lengths, a line longer than ``max_len`` split into pieces of
    ``max_len`` tokens and one of the rest."""
    line_lengths = np.asarray(line_lengths, np.int64)
    if not len(line_lengths) or line_lengths.max() <= max_len:
        return line_lengths.astype(LENGTH)
    pieces = 1 + (line_lengths - 1) // max_len
    lengths = np.full(int(pieces.sum()), max_len, LENGTH)
    lengths[np.cumsum(pieces) - 1] = line_lengths - (pieces - 1) * max_len
    return lengths


def offset_pieces(offsets):
    """An int64 offsets array, or an :class:`Offsets`, as int64 pieces in order."""
    return offsets.pieces() if isinstance(offsets, Offsets) else iter((offsets,))


def longest_sentence(offsets) -> int:
    """The most tokens between two consecutive offsets (an int64 array or an :class:`Offsets`)."""
    if isinstance(offsets, Offsets):
        return offsets.longest()
    return int(np.diff(offsets).max()) if len(offsets) > 1 else 0
