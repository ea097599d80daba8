"""Labelled lines in fastText's format, read and encoded into examples the trainer and the predictor consume.

Input format (fastText's): one example per line, tokens separated by ASCII
whitespace (and NUL), as fastText splits them; a token that starts with
``label_prefix`` is a label, anywhere in the line, several allowed. As fastText's
Dictionary, every line ends with the end-of-line token ``</s>``, a word like any
other: it has its own input row (and a place in ``--vectors``), takes part in
word n-grams, and lets a line of unknown words still predict (``eos=False``,
``--no-eos``, leaves it out). An example's input rows are its known words
(``</s>`` last), each followed by its character n-grams (``maxn`` > 0; an unknown
word has these alone), then its hashed word n-grams (``word_ngrams`` > 1), in
fastText's order and with fastText's hash, so the same n-gram lands in the same
bucket as in fastText.

Training input is read by the Numba tokeniser of ``corpus.scan``; the Python
reader (stdin, prediction) splits, cuts and decodes tokens the same way. Both hold
to the limit table (base/limits.py), as the word2vec reader does: a token keeps its
first MAX_TOKEN_BYTES bytes, and a line its first MAX_LINE_TOKENS tokens (labels
and words alike; the rest of the line is skipped), so every word a classifier
learns can be written to, and read back from, its checkpoint and ``--vectors``,
and a line of any length is read in bounded memory.
"""
from __future__ import annotations

import itertools
import sys
from array import array
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

import numpy as np

from ..base.config import SupervisedConfig
from .corpus import first_spellings
from ..base.errors import FastembError
from ..base.fileio import STDIN, Inputs, input_name, input_paths, open_binary
from ..base.limits import MAX_LINE_TOKENS, MAX_TOKEN_BYTES, check_example_rows
from .vocab import EOS, Vocab, positions

READ_HINT_BYTES = 1 << 22  # the Python reader reads and encodes lines in batches of about this many bytes


@dataclass
class TokenStream:
    """Lines as token-type ids: what the encoder consumes.

    With the end-of-line token on, every line (a blank one too) ends with one EOS
    token, as fastText's Dictionary reads it; a literal ``</s>`` in the text is the
    same token type.
    """

    types: list[str]            # type id -> token, distinct strings
    tokens: np.ndarray          # int32 type id of every token, line after line
    line_offsets: np.ndarray    # int64 line boundaries into tokens, len lines + 1
    eos_type: int = -1          # the type id of EOS; -1 when no end token is appended
    truncated: int = 0          # tokens cut to their first MAX_TOKEN_BYTES bytes
    cut_lines: int = 0          # lines cut to their first MAX_LINE_TOKENS tokens

    @property
    def non_blank(self) -> np.ndarray:
        """Lines with a token of their own (the appended end token does not count)."""
        return np.diff(self.line_offsets) > (self.eos_type >= 0)

    def without_blank_lines(self) -> "TokenStream":
        blank = ~self.non_blank
        if not blank.any():
            return self
        lengths = np.diff(self.line_offsets)
        tokens = self.tokens[~np.repeat(blank, lengths)]
        offsets = np.concatenate(([0], np.cumsum(lengths[~blank]))).astype(np.int64)
        return TokenStream(self.types, tokens, offsets, self.eos_type, self.truncated, self.cut_lines)

    def label_types(self, prefix: str) -> np.ndarray:
        return label_mask(self.types, self.eos_type, prefix)


def label_mask(types: Sequence[str], eos_type: int, prefix: str) -> np.ndarray:
    """Per type: is it a label? The end token (``eos_type``, -1: none) is always a word."""
    is_label = np.fromiter((t.startswith(prefix) for t in types), dtype=bool, count=len(types))
    if eos_type >= 0:
        is_label[eos_type] = False
    return is_label


class _TokenTable:
    """Token byte strings -> ids by first occurrence (C-level dict look-ups), lines as flat id arrays.

    Tokens are split at ASCII whitespace and NUL, the bytes fastText (and ``corpus.scan``)
    split at; a Unicode space such as U+00A0 stays inside its token. A whole batch of
    lines is split at once: each newline becomes a NUL token first (a real NUL is
    blanked beforehand), which keeps the per-token work in C; line ends are recovered
    from the NUL tokens. Token bytes are decoded as UTF-8 with U+FFFD for invalid bytes. The limit
    table's rules are applied to the ids and the distinct tokens, not per token in Python: a line's
    tokens past MAX_LINE_TOKENS are dropped, and a token's bytes past MAX_TOKEN_BYTES (tokens that
    become equal then are one type, as in scan).
    """

    _LINE_END = b"\x00"

    def __init__(self):
        self.ids_of = defaultdict(itertools.count().__next__)
        self.ids_of[self._LINE_END]  # id 0: the line ends
        self.tokens = array("i")

    def add_bytes(self, data: bytes) -> None:
        """Every line of ``data``; a last line without a newline counts as a line."""
        if not data:
            return
        if not data.endswith(b"\n"):
            data += b"\n"
        self.tokens.extend(map(self.ids_of.__getitem__,
                               data.replace(self._LINE_END, b" ").replace(b"\n", b" \x00 ").split()))

    def add_lines(self, lines: Iterable[str]) -> None:
        """Each item is one line (a newline inside an item is read as a space)."""
        text = "".join(line.replace("\n", " ") + "\n" for line in lines)
        self.add_bytes(text.encode("utf-8", "surrogatepass"))

    def stream(self, eos: bool) -> TokenStream:
        """The lines so far, each ending with the end token ``EOS`` when ``eos``."""
        ids = np.frombuffer(self.tokens, dtype=np.int32) if len(self.tokens) else np.zeros(0, np.int32)
        spellings = list(self.ids_of)  # id -> token bytes; id 0 is the line end
        ids, cut_lines = _cut_lines(ids)
        if cut_lines:  # a token only in the skipped parts is no type, as scan never sees it
            spellings, ids = _used_types(spellings, ids)
        is_end = ids == 0
        ends = np.flatnonzero(is_end)
        eos_type = -1
        if eos:
            try:
                eos_type = spellings.index(EOS.encode()) - 1
            except ValueError:
                eos_type = len(spellings) - 1
                spellings.append(EOS.encode())
            tokens = np.where(is_end, np.int32(eos_type + 1), ids) - np.int32(1)
            line_offsets = np.concatenate(([0], ends + 1))
        else:
            tokens = ids[~is_end] - np.int32(1)
            line_offsets = np.concatenate(([0], ends - np.arange(len(ends))))
        spellings = spellings[1:]
        types = [t[:MAX_TOKEN_BYTES].decode("utf-8", "replace") for t in spellings]
        tokens = tokens.astype(np.int32)
        long_types = np.fromiter((len(t) > MAX_TOKEN_BYTES for t in spellings), dtype=bool, count=len(spellings))
        truncated = int(np.count_nonzero(long_types[tokens])) if long_types.any() else 0
        stream = _merge_equal_types(types, tokens, line_offsets.astype(np.int64), eos_type)
        stream.truncated, stream.cut_lines = truncated, cut_lines
        return stream


def lines_stream(lines: Iterable[str], eos: bool) -> TokenStream:
    """Each item of ``lines`` as one line (blank ones too), read as every line this module reads."""
    table = _TokenTable()
    table.add_lines(lines)
    return table.stream(eos)


def read_words(text: str) -> list[str]:
    """fastText's ``readWord`` over ``text``: its tokens, with the end token ``</s>`` at each newline (an
    unterminated last line gets none), split and cut as every line this module reads."""
    table = _TokenTable()
    table.add_bytes(text.encode("utf-8", "surrogatepass"))
    stream = table.stream(eos=True)
    tokens = [stream.types[t] for t in stream.tokens.tolist()]
    if tokens and not text.endswith("\n"):
        tokens.pop()  # the end token of the line end add_bytes supplied
    return tokens


def _cut_lines(ids: np.ndarray) -> tuple[np.ndarray, int]:
    """``ids`` (line ends: 0) with every line's tokens past MAX_LINE_TOKENS dropped; and how many lines were cut."""
    ends = np.flatnonzero(ids == 0)
    lengths = np.diff(ends, prepend=-1) - 1
    long_lines = np.flatnonzero(lengths > MAX_LINE_TOKENS)
    if not len(long_lines):
        return ids, 0
    line_starts = ends - lengths
    drop = np.zeros(len(ids) + 1, np.int32)  # +1 at the first dropped token of a long line, -1 at its end
    np.add.at(drop, line_starts[long_lines] + MAX_LINE_TOKENS, 1)
    np.add.at(drop, ends[long_lines], -1)
    return ids[np.cumsum(drop[:-1]) == 0], len(long_lines)


def _used_types(spellings: list[bytes], ids: np.ndarray) -> tuple[list[bytes], np.ndarray]:
    """The spellings some id still refers to, in their order (id 0, the line end, stays 0), and ids renumbered."""
    used = np.bincount(ids, minlength=len(spellings)) > 0
    used[0] = True
    new_ids = np.cumsum(used, dtype=np.int32) - np.int32(1)
    return [t for t, keep in zip(spellings, used.tolist()) if keep], new_ids[ids]


def _merge_equal_types(types: list[str], tokens: np.ndarray, line_offsets: np.ndarray, eos_type: int) -> TokenStream:
    """Distinct byte strings that decode to the same text (invalid UTF-8, or equal once cut to
    MAX_TOKEN_BYTES) become one type, as in scan."""
    if len(set(types)) == len(types):
        return TokenStream(types, tokens, line_offsets, eos_type)
    remap, distinct = first_spellings(types)
    return TokenStream(distinct, remap[tokens], line_offsets, int(remap[eos_type]) if eos_type >= 0 else -1)


def read_line_batches(path, opener=None) -> Iterator[list[bytes]]:
    """Lines of ``path`` ('-' = stdin; .gz/.bz2/.xz ok) as bytes, in batches (each batch's bytes joined are
    whole lines); one line at a time from a terminal. With ``opener``, ``path`` is read from the stream
    ``opener(path)`` gives (a cluster worker's piece of a file: sharding.open_piece).

    Lines end at '\\n' only ('\\r' is whitespace inside a line, as in fastText).
    """
    stdin = path == STDIN
    handle = sys.stdin.buffer if stdin else (opener or open_binary)(path)
    try:
        if stdin and sys.stdin.isatty():
            while line := handle.readline():
                yield [line]
        else:
            yield from _whole_lines(handle)
    except (OSError, EOFError, ValueError) as exc:  # corrupt archives raise these mid-read
        raise FastembError(f"{input_name(path) if opener is None else path}: cannot read ({exc})") from None
    finally:
        if not stdin:  # leave sys.stdin usable
            handle.close()


def _whole_lines(handle) -> Iterator[list[bytes]]:
    """What ``handle.read`` gives, READ_HINT_BYTES at a time, cut after the last line end of each read; a line
    longer than a read waits, in parts, for its end. Past READ_HINT_BYTES those parts are shortened as the
    limit table cuts the line anyway (_shortened_line), and once it has its tokens the rest of it is skipped
    unread: a line of any length is held in a few MB."""
    parts: list[bytes] = []
    waiting = 0        # bytes in parts
    skipping = False   # the line has all the tokens it keeps: drop the rest up to its newline
    while block := handle.read(READ_HINT_BYTES):
        if skipping:
            first = block.find(b"\n")
            if first < 0:
                continue
            block, skipping = block[first:], False
        end = block.rfind(b"\n") + 1
        if not end:
            parts.append(block)
            waiting += len(block)
            if waiting > READ_HINT_BYTES:
                kept, skipping = _shortened_line(b"".join(parts))
                parts, waiting = [kept], len(kept)
            continue
        yield parts + [block[:end]]
        parts = [block[end:]] if end < len(block) else []
        waiting = len(block) - end
    if parts:
        yield parts


def _shortened_line(line: bytes) -> tuple[bytes, bool]:
    """The start of a line (no newline yet) reduced to what the limit table keeps of it, and whether the line
    is complete (it has more than MAX_LINE_TOKENS tokens, so the rest is skipped).

    One token more than the table keeps is left, each token at one byte more than MAX_TOKEN_BYTES: the
    reader's own cut (_TokenTable.stream) then makes and counts the cuts, as for a shorter line. The last,
    perhaps unfinished, token stays open to the bytes that follow unless the line ends in whitespace.
    """
    line = line.replace(b"\x00", b" ")
    tokens = line.split(None, MAX_LINE_TOKENS + 1)
    complete = len(tokens) > MAX_LINE_TOKENS + 1
    kept = b" ".join(token[:MAX_TOKEN_BYTES + 1] for token in tokens[:MAX_LINE_TOKENS + 1])
    return kept + (b" " if line[-1:].isspace() and not complete else b""), complete


def _scan_lines(paths: list, eos: bool, opener=None) -> TokenStream | None:
    """The non-blank lines of ``paths`` (one after the other) read by the Numba tokeniser ``corpus.scan``
    (``opener``: as scan takes it, for a cluster worker's pieces of files).

    Lines are cut to MAX_LINE_TOKENS tokens as scan reads them. None for stdin (which could not be
    read again by the other reader), or when scan's result is not exactly the lines (a line of more
    than limits.MAX_SENTENCE tokens is several sentences: only if MAX_LINE_TOKENS were above it).
    """
    from .corpus import scan
    from ..kernels.labelled import end_lines
    if STDIN in paths:
        return None
    raw = scan(paths, opener=opener, max_line_tokens=MAX_LINE_TOKENS)
    if len(raw.offsets) - 1 != raw.lines:
        return None
    types, tokens, offsets = list(raw.words), raw.ids, np.asarray(raw.offsets)  # in memory, as the ids are
    eos_type = -1
    if eos:
        try:
            eos_type = types.index(EOS)  # a literal </s> in the text is the end token
        except ValueError:
            eos_type = len(types)
            types = types + [EOS]
        tokens, offsets = end_lines(tokens, offsets, eos_type)
    return TokenStream(types, tokens.astype(np.int32, copy=False), offsets.astype(np.int64, copy=False), eos_type,
                       raw.truncated, raw.cut_lines)


def read_lines(path: Inputs, eos: bool, opener=None) -> tuple[TokenStream, str]:
    """The non-blank lines of ``path`` (a path or a list of paths read in order, '-' = stdin) as a
    TokenStream, and which reader read them.

    The Numba tokeniser when it can (``scan``), else the Python reader; both give
    the same types in the same order, so the same model. Each file ends a line.
    With ``opener``, ``path`` is a list of a cluster worker's pieces of files, read with it (sharding.open_piece).
    """
    paths = input_paths(path) if opener is None else list(path)
    stream = _scan_lines(paths, eos, opener)
    if stream is not None:
        return stream, "scan"
    table = _TokenTable()
    for one_path in paths:
        for batch in read_line_batches(one_path, opener):
            table.add_bytes(b"".join(batch))
    return table.stream(eos).without_blank_lines(), "python"


def _token_hashes(types: Sequence[str]) -> np.ndarray:
    """fastText's FNV-1a hash of each token's UTF-8 bytes, sign-extended to uint64 for n-grams."""
    from ..kernels.hashing import fnv1a_hashes
    encoded = [t.encode("utf-8", "surrogateescape") for t in types]
    starts = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=starts[1:])
    data = np.frombuffer(b"".join(encoded), dtype=np.uint8).copy()
    # fastText keeps word hashes in an int32 vector and reads them back into a uint64: sign extension.
    return fnv1a_hashes(data, starts).view(np.int32).astype(np.int64).view(np.uint64)


@dataclass
class Examples:
    """Encoded lines: what the kernel and the predictor consume."""

    rows: np.ndarray            # int32 input rows of every example (known words, then n-gram buckets)
    row_offsets: np.ndarray     # int64, len examples + 1
    labels: np.ndarray          # int32 gold label ids
    label_offsets: np.ndarray   # int64, len examples + 1
    word_counts: np.ndarray     # int32 known word tokens per example, </s> included (progress, lr decay)
    unknown_labels: np.ndarray  # int32 label tokens per example that the model does not know

    def __len__(self) -> int:
        return len(self.row_offsets) - 1

    @property
    def n_rows(self) -> np.ndarray:
        return np.diff(self.row_offsets)

    @property
    def n_labels(self) -> np.ndarray:
        return np.diff(self.label_offsets)

    def select(self, keep: np.ndarray) -> "Examples":
        """The examples where ``keep`` is true, re-packed."""
        if keep.all():
            return self

        def pack(flat, offsets):
            lengths = np.diff(offsets)
            kept = flat[np.repeat(keep, lengths)]
            return kept, np.concatenate(([0], np.cumsum(lengths[keep]))).astype(np.int64)
        rows, row_offsets = pack(self.rows, self.row_offsets)
        labels, label_offsets = pack(self.labels, self.label_offsets)
        return Examples(rows, row_offsets, labels, label_offsets, self.word_counts[keep].copy(),
                        self.unknown_labels[keep].copy())


def _encode(stream: TokenStream, token_word: np.ndarray, token_label: np.ndarray, config: SupervisedConfig,
            n_words: int, where: str = "the lines") -> Examples:
    """The examples of ``stream``; their size (words and word n-gram rows) is checked against the memory
    available before they are allocated (``where``: the input, for the message)."""
    from ..kernels.labelled import NgramSettings, encode_examples, example_sizes
    from .subwords import token_ngram_rows
    ngrams = NgramSettings(int(config.word_ngrams), int(config.n_buckets), int(n_words))
    maps = (token_word.astype(np.int32), token_label.astype(np.int32), _token_hashes(stream.types),
            *token_ngram_rows(stream.types, config.subword_settings, n_words))
    sizes = example_sizes(stream.tokens, stream.line_offsets, maps, ngrams)
    check_example_rows(int(sizes[0][-1]), len(sizes[2]), where)
    return Examples(*encode_examples(stream.tokens, stream.line_offsets, maps, ngrams, sizes))


@dataclass
class TrainingData:
    words: Vocab
    labels: Vocab
    examples: Examples            # only lines with >= 1 input row and >= 1 label
    lines: int                    # non-blank lines read
    skipped_no_label: int         # non-blank lines without a (kept) label
    skipped_no_words: int         # lines with a label but no input row (not even a known </s>)
    reader: str = "scan"          # "scan" (Numba tokeniser) or "python" (the fallback, see read_lines)
    learnable: int = 0            # examples with a word of their own besides the end token
    truncated: int = 0            # tokens cut to MAX_TOKEN_BYTES bytes
    cut_lines: int = 0            # lines cut to MAX_LINE_TOKENS tokens


def build_dictionaries(types: list[str], counts: np.ndarray, eos_type: int, config: SupervisedConfig,
                       name: str) -> tuple[Vocab, Vocab]:
    """The words and the labels of a data set whose token types are ``types`` in order of first occurrence,
    seen ``counts`` times (the end token ``eos_type`` included, -1: none); ``name`` names the input in errors.
    A single process counts its lines' types, a cluster merges its shards' counts into the same ones."""
    if not counts.sum():
        raise FastembError(f"{name}: the file is empty (no tokens)")
    prefix = config.label_prefix
    is_label = label_mask(types, eos_type, prefix)
    if not is_label.any():
        raise FastembError(f"{name}: no line has a label (a token starting with {prefix!r}); "
                           "check --label-prefix")
    if is_label.sum() + (eos_type >= 0) == len(types):
        raise FastembError(f"{name}: lines have labels but no words: nothing to learn from")
    word_types, label_types = np.flatnonzero(~is_label), np.flatnonzero(is_label)
    if counts[label_types].max() < config.min_count_label:
        raise FastembError(f"no label occurs at least {config.min_count_label} times (--min-count-label); "
                           f"the most frequent occurs {counts[label_types].max()} times")
    words = Vocab.build([types[i] for i in word_types], counts[word_types], config.min_count)[0]
    labels = Vocab.build([types[i] for i in label_types], counts[label_types], config.min_count_label)[0]
    return words, labels


def encode_training_data(stream: TokenStream, words: Vocab, labels: Vocab, config: SupervisedConfig,
                         reader: str = "scan", where: str = "the lines") -> TrainingData:
    """Every line of ``stream`` encoded with the given vocabularies; only lines with a known label and an
    input row are kept as examples."""
    from ..kernels.labelled import NOT_A_WORD
    types, eos_type = stream.types, stream.eos_type
    is_label = stream.label_types(config.label_prefix)
    word_types, label_types = np.flatnonzero(~is_label), np.flatnonzero(is_label)
    token_word = np.full(len(types), NOT_A_WORD, dtype=np.int32)
    token_word[word_types] = positions(words.words, (types[i] for i in word_types))
    token_label = np.full(len(types), -1, dtype=np.int32)
    token_label[label_types] = positions(labels.words, (types[i] for i in label_types))
    encoded = _encode(stream, token_word, token_label, config, len(words), where)
    non_blank = stream.non_blank
    gold, used = encoded.n_labels > 0, encoded.n_rows > 0
    keep = gold & used
    # Every line has the end token's row; a line must also have a word of its own to be worth learning from.
    eos_known = eos_type >= 0 and token_word[eos_type] >= 0
    return TrainingData(words, labels, encoded.select(keep), int(non_blank.sum()),
                        int((non_blank & ~gold).sum()), int((gold & ~used).sum()), reader,
                        int((keep & (encoded.word_counts > eos_known)).sum()), stream.truncated, stream.cut_lines)


def read_training_data(path: Inputs, config: SupervisedConfig, words: Vocab | None = None,
                       labels: Vocab | None = None) -> TrainingData:
    """Read ``path`` once, build both vocabularies (or apply the given ones: resuming) and encode every line."""
    from ..kernels.labelled import count_types
    stream, reader = read_lines(path, config.eos)
    if words is None:
        counts = count_types(stream.tokens, len(stream.types))
        words, labels = build_dictionaries(stream.types, counts, stream.eos_type, config, input_name(path))
    data = encode_training_data(stream, words, labels, config, reader, input_name(path))
    check_learnable(data.learnable, input_name(path), config)
    return data


def check_learnable(learnable: int, name: str, config: SupervisedConfig) -> None:
    """``learnable``: the lines with both a label and a word (TrainingData.learnable), of the whole data set."""
    if not learnable:
        raise FastembError(f"{name}: no line has both a label and a word (kept by --min-count {config.min_count}): "
                           "nothing to learn from")
