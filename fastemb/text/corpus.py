"""Reading a text corpus once into a flat int32 token array plus sentence offsets (text/offsets.py).

One pass over the file assigns each new word a provisional id in order of first
occurrence (a Numba tokeniser, no per-token Python code), so counting and
encoding happen together; :meth:`RawCorpus.encode` then maps provisional ids to
vocabulary ids with one numpy gather, dropping out-of-vocabulary tokens before
any windowing, as word2vec does.
"""
from __future__ import annotations

import os
import weakref
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..base.errors import FastembError
from ..base.limits import MAX_SENTENCE, MAX_TOKEN_BYTES
from ..base.fileio import Inputs, input_name, input_paths, open_input, remove_quietly, scratch_file, scratch_name
from .offsets import Offsets, sentence_lengths

BLOCK_BYTES = 1 << 22  # small enough that a block's transient copies stay a few MB
_SEPARATORS = (b"\n", b" ", b"\t", b"\r", b"\x0b", b"\x0c", b"\x00")  # what the tokeniser splits on


class WordTable:
    """Distinct words as one UTF-8 byte blob and their start offsets; a word is decoded on access.

    A corpus has many more distinct words than the vocabulary keeps (most occur once or
    twice), so only the kept ones become Python strings: a million str objects would
    cost about 60 MB, the blob about 10.
    """

    def __init__(self, blob: bytes, starts: np.ndarray):
        self.blob, self.starts = blob, starts

    def __len__(self) -> int:
        return len(self.starts) - 1

    def __getitem__(self, index: int) -> str:
        return self.blob[self.starts[index]:self.starts[index + 1]].decode("utf-8", errors="replace")

    def __iter__(self):
        blob, starts = self.blob, self.starts.tolist()
        for begin, end in zip(starts, starts[1:]):
            yield blob[begin:end].decode("utf-8", errors="replace")

    def texts_distinct(self) -> bool:
        """True when no two words decode to the same text: every word is valid UTF-8 by itself.

        Then distinct byte strings are distinct texts. Checked on the whole blob at once:
        it must decode strictly and no word may start inside a character (a continuation byte).
        """
        try:
            self.blob.decode("utf-8")
        except UnicodeDecodeError:
            return False
        first_bytes = np.frombuffer(self.blob, dtype=np.uint8)[self.starts[:-1]]
        return not np.any((first_bytes & 0xC0) == 0x80)


@dataclass
class RawCorpus:
    """Every token of a file, encoded by first occurrence, before any vocabulary cut.

    The provisional ids are in memory (``ids``) or, for corpora over the memory
    budget, in a spill file of int32 (``spill``) read back piece by piece.
    """

    words: WordTable | list[str]  # provisional id -> word, in order of first occurrence
    counts: np.ndarray        # int64, provisional id -> occurrences
    ids: np.ndarray | None    # int32 provisional ids of every token, in file order
    offsets: Offsets          # sentence boundaries into ids, len = sentences + 1
    lines: int                # non-empty lines read
    truncated: int = 0        # tokens cut to MAX_TOKEN_BYTES
    spill: str | None = None  # the ids on disk instead of ``ids``
    pruned: int = 0           # times the count table was pruned (scan's max_words)
    prune_threshold: int = 0  # words seen at most this often were forgotten at the last prune
    cut_lines: int = 0        # lines whose tokens past scan's max_line_tokens were skipped

    @property
    def n_tokens(self) -> int:
        return int(self.offsets[-1])

    def id_pieces(self, size: int = 1 << 22):
        """Yield (start, int32 ids) pieces in file order, from memory or the spill file."""
        if self.spill is None:
            for start in range(0, self.n_tokens, size):
                yield start, self.ids[start:start + size]
            return
        with open(self.spill, "rb") as handle:
            start = 0
            while start < self.n_tokens:
                piece = np.fromfile(handle, dtype=np.int32, count=size)
                yield start, piece
                start += len(piece)


class _Sentences:
    """Counts shared by the in-memory and on-disk corpora, both defined by ``offsets``.

    A labelled corpus (the classifier's examples: ``tokens`` are then input rows) also has
    ``labels`` per unit, labels[label_offsets[u]:label_offsets[u + 1]], always in memory.
    """

    offsets: np.ndarray

    @property
    def n_tokens(self) -> int:
        return int(self.offsets[-1])

    @property
    def n_sentences(self) -> int:
        return len(self.offsets) - 1


@dataclass
class Corpus(_Sentences):
    """A corpus encoded with a vocabulary, in memory: what the trainers consume."""

    tokens: np.ndarray        # int32 vocabulary ids, out-of-vocabulary tokens removed
    offsets: np.ndarray       # int64 sentence boundaries into tokens (no empty sentences)
    truncated: int = 0        # over-long tokens that were cut while reading
    pruned: tuple[int, int] = (0, 0)  # (prunes of the count table, last threshold): see scan
    tokens_read: int = 0      # tokens in the input, out-of-vocabulary ones included
    labels: np.ndarray | None = None         # int32 gold labels of a labelled corpus
    label_offsets: np.ndarray | None = None  # int64, len units + 1

    def head(self, tokens: int) -> "Corpus":
        """The whole sentences that fit in the first ``tokens`` tokens (at least one)."""
        if tokens >= self.n_tokens:
            return self
        last = max(int(np.searchsorted(self.offsets, tokens, side="right")) - 1, 1)
        return Corpus(self.tokens[:self.offsets[last]], self.offsets[:last + 1])

    def segment_bounds(self, chunk_starts: np.ndarray) -> list[tuple[int, int]]:
        """Ranges of chunks trained in one kernel call: all of them, the corpus is in memory."""
        return [(0, len(chunk_starts) - 1)]

    def load(self, first_chunk: int, last_chunk: int, chunk_starts: np.ndarray):
        return self, chunk_starts

    def token_blocks(self):
        yield self.tokens

    def blocks(self):
        """Everything that defines the data, for its checksum: the tokens, then any labels."""
        yield from self.token_blocks()
        if self.labels is not None:
            yield from (self.labels, self.label_offsets)


@dataclass
class DiskCorpus(_Sentences):
    """An encoded corpus kept in an int32 file; trained a segment (a run of chunks) at a time.

    Memory stays at one segment buffer (``segment_tokens``), whatever the corpus size;
    only the sentence offsets stay in memory: an :class:`Offsets` (2 bytes a sentence) of
    a text corpus, the int64 offsets of the classifier's examples.
    """

    path: str
    offsets: Offsets | np.ndarray
    truncated: int = 0
    pruned: tuple[int, int] = (0, 0)
    tokens_read: int = 0
    labels: np.ndarray | None = None
    label_offsets: np.ndarray | None = None
    segment_tokens: ClassVar[int] = 1 << 20  # 4 MB of token ids in memory at a time

    def __post_init__(self):
        # The file is scratch: it goes when the corpus object does (or the process exits).
        weakref.finalize(self, remove_quietly, self.path)

    def segment_bounds(self, chunk_starts: np.ndarray) -> list[tuple[int, int]]:
        token_at_chunk = self.offsets[chunk_starts]
        bounds, first = [], 0
        n_chunks = len(chunk_starts) - 1
        while first < n_chunks:
            last = int(np.searchsorted(token_at_chunk, token_at_chunk[first] + self.segment_tokens, side="right")) - 1
            last = min(max(last, first + 1), n_chunks)
            bounds.append((first, last))
            first = last
        return bounds

    def load(self, first_chunk: int, last_chunk: int, chunk_starts: np.ndarray):
        """The chunks [first_chunk, last_chunk) as an in-memory Corpus, and their local chunk starts."""
        first_sentence, last_sentence = int(chunk_starts[first_chunk]), int(chunk_starts[last_chunk])
        start, end = int(self.offsets[first_sentence]), int(self.offsets[last_sentence])
        with open(self.path, "rb") as handle:
            handle.seek(4 * start)
            tokens = np.fromfile(handle, dtype=np.int32, count=end - start)
        offsets = self.offsets[first_sentence:last_sentence + 1] - start
        labels = label_offsets = None
        if self.labels is not None:
            first_label, last_label = self.label_offsets[first_sentence], self.label_offsets[last_sentence]
            labels = self.labels[first_label:last_label]
            label_offsets = self.label_offsets[first_sentence:last_sentence + 1] - first_label
        return (Corpus(tokens, offsets, labels=labels, label_offsets=label_offsets),
                chunk_starts[first_chunk:last_chunk + 1] - first_sentence)

    def token_blocks(self):
        with open(self.path, "rb") as handle:
            while True:
                block = np.fromfile(handle, dtype=np.int32, count=self.segment_tokens)
                if not len(block):
                    return
                yield block

    def blocks(self):
        """Everything that defines the data, for its checksum: the tokens, then any labels."""
        yield from self.token_blocks()
        if self.labels is not None:
            yield from (self.labels, self.label_offsets)


def _blocks(handle):
    """Yield byte blocks of about BLOCK_BYTES, each cut just after a whitespace byte.

    So no token (and no UTF-8 character) is ever split between two blocks; a run of
    more than 64 MB without any separator is cut there (its token is cut to
    MAX_TOKEN_BYTES anyway).
    """
    pending = b""
    while True:
        data = handle.read(BLOCK_BYTES)
        if not data:
            if pending:
                yield pending
            return
        data = pending + data
        cut = max(data.rfind(separator) for separator in _SEPARATORS) + 1
        if cut == 0 and len(data) < 4 * BLOCK_BYTES:
            pending = data
            continue
        cut = cut or len(data)
        pending = data[cut:]
        yield memoryview(data)[:cut]  # no copy of the block


class _Encoder:
    """Growable buffers around the Numba tokeniser (see kernels.tokenize.encode_block)."""

    def __init__(self, max_line_tokens: int = 0):
        from ..kernels.tokenize import EMPTY
        self.slot_word = np.full(1 << 16, EMPTY, dtype=np.int32)
        self.slot_hash = np.zeros(1 << 16, dtype=np.uint64)
        self.word_bytes = np.zeros(1 << 20, dtype=np.uint8)
        self.word_start = np.zeros(1 << 15, dtype=np.int64)
        self.token_ids = np.zeros(1 << 21, dtype=np.int32)
        self.line_ends = np.zeros(1 << 14, dtype=np.int64)
        self.limits = np.array([0, 0, 0, 0, MAX_TOKEN_BYTES, 0, 0, max_line_tokens, 0], dtype=np.int64)

    def feed(self, block: bytes) -> tuple[np.ndarray, np.ndarray]:
        """The block's provisional ids and the end of each line it closes (counted from the block's first
        token): views of the buffers, valid until the next call."""
        from ..kernels.tokenize import encode_block, rehash
        data = np.frombuffer(block, dtype=np.uint8)
        self.limits[0] = 0
        while encode_block(data, (self.slot_word, self.slot_hash), (self.word_bytes, self.word_start),
                           (self.token_ids, self.line_ends), self.limits):
            _, n_words, n_tokens, n_lines = self.limits[:4]
            grew = False
            if 2 * (n_words + 1) > len(self.slot_word):
                self.slot_word, self.slot_hash = rehash(self.slot_hash, self.slot_word, 2 * len(self.slot_word),
                                                        np.arange(n_words, dtype=np.int32))
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
        n_tokens, n_lines = int(self.limits[2]), int(self.limits[3])
        self.limits[2] = self.limits[3] = 0  # drained: the buffers are reused for the next block
        return self.token_ids[:n_tokens], self.line_ends[:n_lines]

    @property
    def n_words(self) -> int:
        return int(self.limits[1])

    def prune(self, keep: np.ndarray) -> np.ndarray:
        """Forget the words where ``keep`` is False; returns old id -> new id (-1 = forgotten).

        The kept words are renumbered in their order, their bytes compacted and the hash
        table rebuilt, so a forgotten word seen again starts over with a new id and count.
        """
        from ..kernels.tokenize import rehash
        n_words, n_kept = self.n_words, int(keep.sum())
        new_ids = np.full(n_words, -1, dtype=np.int32)
        new_ids[keep] = np.arange(n_kept, dtype=np.int32)
        starts = self.word_start[:n_words + 1]
        lengths = np.diff(starts)
        kept_bytes = self.word_bytes[:starts[-1]][np.repeat(keep, lengths)]
        self.word_bytes[:len(kept_bytes)] = kept_bytes
        self.word_start[1:n_kept + 1] = np.cumsum(lengths[keep])
        self.slot_word, self.slot_hash = rehash(self.slot_hash, self.slot_word, len(self.slot_word), new_ids)
        self.limits[1] = n_kept
        return new_ids

    def finish(self):
        """(words by provisional id, tokens truncated, lines cut); every line was closed by a newline."""
        n_words, truncated = int(self.limits[1]), int(self.limits[6])
        starts = self.word_start[:n_words + 1].copy()
        return WordTable(self.word_bytes[:starts[-1]].tobytes(), starts), truncated, int(self.limits[8])


def _grown(array: np.ndarray) -> np.ndarray:
    bigger = np.zeros(2 * len(array), dtype=array.dtype)
    bigger[:len(array)] = array
    return bigger


def _forgotten_stays_forgotten(remap: np.ndarray) -> np.ndarray:
    """``remap`` with a -1 appended, so that ``result[ids]`` sends id -1 (a word scan's max_words
    forgot) to -1 as well: numpy reads index -1 as the last entry."""
    return np.append(remap, np.int32(-1))


class _IdStore:
    """Collects provisional ids: in memory until ``budget`` bytes, then in a spill file."""

    def __init__(self, budget: float, spill_dir: str | None):
        self.budget, self.spill_dir = budget, spill_dir
        self.parts: list[np.ndarray] = []
        self.n = 0
        self.spill: str | None = None
        self.handle = None

    def add(self, ids: np.ndarray) -> None:
        self.n += len(ids)
        if self.handle is None and 4 * self.n > self.budget and self.spill_dir is not None:
            self.spill = scratch_file(self.spill_dir, "ids", ".int32")
            self.handle = open(self.spill, "wb")
            for part in self.parts:
                part.tofile(self.handle)
            self.parts = []
        if self.handle is not None:
            ids.tofile(self.handle)
        else:
            self.parts.append(ids.copy())

    def renumber(self, new_ids: np.ndarray) -> None:
        """Send every stored id through ``new_ids``; -1 (a forgotten word) stays -1."""
        table = _forgotten_stays_forgotten(new_ids)
        if self.handle is None:
            self.parts = [table[part] for part in self.parts]
            return
        self.handle.close()
        renumbered = scratch_name(self.spill + ".renumbered")
        with open(self.spill, "rb") as source, open(renumbered, "wb") as target:
            while len(piece := np.fromfile(source, dtype=np.int32, count=1 << 20)):
                table[piece].tofile(target)
        os.replace(renumbered, self.spill)
        self.handle = open(self.spill, "ab")

    def discard(self) -> None:
        if self.handle is not None:
            self.handle.close()
            remove_quietly(self.spill)
            self.handle = self.spill = None

    def result(self):
        if self.handle is not None:
            self.handle.close()
            return None
        return np.concatenate(self.parts) if self.parts else np.zeros(0, np.int32)


def scan(inputs: Inputs, memory_budget: float = float("inf"), spill_dir: str | None = None,
         max_words: int | None = None, opener=None, max_line_tokens: int = 0) -> RawCorpus:
    """Read ``inputs`` (plain, .gz, .bz2 or .xz): ASCII-whitespace tokens, one sentence per line.

    ``inputs`` is a path or a list of paths, read in order as one corpus ('-' is
    standard input); each file ends a line, so a last line without a newline is a
    sentence of its own, never joined to the next file's first line.
    Invalid UTF-8 is replaced (U+FFFD), never fatal; tokens longer than
    MAX_TOKEN_BYTES are cut to that length and counted in ``truncated``. Once the
    ids pass ``memory_budget`` bytes they go to a spill file in ``spill_dir``.
    With ``max_words``, the count table never holds many more distinct words than
    that: past it, the words seen so far at most 1 time are forgotten (then at most
    2, 3, ... times at the next prunes), as word2vec's ReduceVocab; their tokens
    become out-of-vocabulary and the prunes are counted in ``pruned``.
    With ``opener``, ``inputs`` is a list of sources of any kind (a cluster worker's pieces of files,
    see cluster/sharding.py), each read from the binary stream ``opener(source)`` gives and named by ``str(source)``.
    With ``max_line_tokens``, a line's tokens past that many are skipped (never counted) and the lines so cut
    counted in ``cut_lines``: the classifier's rule (limits.MAX_LINE_TOKENS).
    """
    encoder = _Encoder(max_line_tokens)
    store = _IdStore(memory_budget, spill_dir)
    counts = np.zeros(0, np.int64)
    lengths: list[np.ndarray] = []  # uint16 sentence lengths of each block
    open_tokens = n_lines = 0  # tokens read since the last line end (a line may span blocks)
    prune_threshold = pruned = 0

    def add(block) -> None:
        nonlocal counts, open_tokens, n_lines, prune_threshold, pruned
        ids, ends = encoder.feed(block)
        if len(ends):
            line_lengths = np.empty(len(ends), np.int64)
            line_lengths[0] = open_tokens + ends[0]
            np.subtract(ends[1:], ends[:-1], out=line_lengths[1:])
            lengths.append(sentence_lengths(line_lengths))
            del line_lengths
            open_tokens = len(ids) - int(ends[-1])
            n_lines += len(ends)
        else:
            open_tokens += len(ids)
        del ends
        try:
            store.add(ids)
        except OSError as exc:
            raise FastembError(f"{spill_dir}: cannot write the scratch file for the corpus "
                               f"({exc.strerror or exc})") from None
        block_counts = np.bincount(ids)
        if len(block_counts) > len(counts):
            counts = np.concatenate((counts, np.zeros(len(block_counts) - len(counts), np.int64)))
        counts[:len(block_counts)] += block_counts
        while max_words is not None and encoder.n_words > max_words:
            prune_threshold += 1
            pruned += 1
            keep = counts > prune_threshold
            store.renumber(encoder.prune(keep))
            counts = counts[keep]

    try:
        for path in (input_paths(inputs) if opener is None else inputs):
            try:
                with (open_input(path) if opener is None else opener(path)) as handle:
                    for block in _blocks(handle):
                        add(block)
            except FastembError:  # already says which file and why (a FastembError is a ValueError too)
                raise
            except (OSError, EOFError, ValueError) as exc:  # corrupt archives raise these mid-read
                raise FastembError(f"{input_name(path) if opener is None else path}: cannot read ({exc})") from None
            add(b"\n")  # closes the file's last line if it had no newline (a blank line is no sentence)
    except BaseException:  # FastembError, Ctrl-C: no scratch file is left behind
        store.discard()
        raise
    words, truncated, cut_lines = encoder.finish()
    ids = store.result()
    offsets = Offsets(np.concatenate(lengths) if lengths else np.zeros(0, np.uint16))
    del lengths
    counts = np.concatenate((counts, np.zeros(len(words) - len(counts), np.int64)))
    raw = RawCorpus(words, counts, ids, offsets, n_lines, truncated, store.spill, pruned, prune_threshold, cut_lines)
    if not words.texts_distinct():  # distinct byte strings (invalid UTF-8) that decode to the same text
        raw = _merge_equal_words(raw)
    return raw


def first_spellings(words: list[str]) -> tuple[np.ndarray, list[str]]:
    """Ids that send every word to its first equal one, and the distinct words in order.

    Distinct byte strings can decode to the same text (invalid UTF-8 becomes U+FFFD);
    they are one word.
    """
    first: dict[str, int] = {}
    remap = np.array([first.setdefault(w, len(first)) for w in words], dtype=np.int32)
    return remap, list(first)


def _merge_equal_words(raw: RawCorpus) -> RawCorpus:
    remap, distinct = first_spellings(list(raw.words))
    counts = np.bincount(remap, weights=raw.counts, minlength=len(distinct)).astype(np.int64)
    remap = _forgotten_stays_forgotten(remap)
    if raw.spill is None:
        raw.ids = remap[raw.ids]
    else:
        merged = scratch_name(raw.spill + ".merged")
        with open(merged, "wb") as handle:
            for _, piece in raw.id_pieces():
                remap[piece].tofile(handle)
        os.replace(merged, raw.spill)
    raw.words, raw.counts = distinct, counts
    return raw


def encode(raw: RawCorpus, remap: np.ndarray, cache_path: str | None = None):
    """Map provisional ids through ``remap`` (-1 = out of vocabulary), dropping those tokens.

    Returns an in-memory :class:`Corpus`, or with ``cache_path`` a :class:`DiskCorpus`
    written there piece by piece (then memory stays bounded whatever the corpus size).
    """
    remap = _forgotten_stays_forgotten(remap)
    lengths = raw.offsets.lengths.copy()  # less each sentence's dropped tokens
    kept_parts: list[np.ndarray] = []
    out = open(cache_path, "wb") if cache_path else None
    finished = False
    try:
        for start, piece in raw.id_pieces(1 << 20):
            mapped = remap[piece]
            dropped_at = np.flatnonzero(mapped < 0)
            if len(dropped_at):
                sentences = raw.offsets.searchsorted(start + dropped_at, side="right") - 1
                first = int(sentences[0])
                lengths[first:int(sentences[-1]) + 1] -= np.bincount(sentences - first).astype(lengths.dtype)
                mapped = np.delete(mapped, dropped_at)
            if out is not None:
                mapped.astype(np.int32, copy=False).tofile(out)
            else:
                kept_parts.append(mapped.astype(np.int32, copy=False))
        finished = True
    except OSError as exc:
        raise FastembError(f"{cache_path}: cannot write the encoded corpus ({exc.strerror or exc})") from None
    finally:
        if out is not None:
            out.close()
            if not finished:
                remove_quietly(cache_path)
    if not lengths.all():  # sentences left empty vanish
        lengths = lengths[lengths > 0]
    offsets = Offsets(lengths)
    del lengths
    pruned = (raw.pruned, raw.prune_threshold)
    if cache_path:
        return DiskCorpus(cache_path, offsets, raw.truncated, pruned, raw.n_tokens)
    tokens = np.concatenate(kept_parts) if kept_parts else np.zeros(0, np.int32)
    return Corpus(tokens, np.asarray(offsets), raw.truncated, pruned, raw.n_tokens)
