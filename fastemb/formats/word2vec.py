"""word2vec's text and binary vector files: written so that gensim, word2vec C and fastText tooling load them,
and read from theirs (gensim, word2vec C ``-binary 0/1``, fastText ``.vec``), every line checked."""
from __future__ import annotations

import lzma
import os
import re
import stat
import sys
import zlib
from typing import Sequence

import numpy as np

from ..base.checks import check_path, check_texts, check_type
from ..base.errors import FastembError
from ..base.fileio import atomic_output, compressed, open_binary
from ..base.limits import MAX_TOKEN_BYTES

_SAVE_BLOCK_VALUES = 1 << 17  # values formatted per batch: enough to amortise numpy calls, small enough for the cache
_READ_CHUNK_BYTES = 1 << 22
_BINARY_BLOCK_BYTES = 1 << 24  # a binary file is read and scanned this much at a time
# The longest number a text row may hold: '%.17g' of a float64 takes 24 characters, '%f' of float32's
# largest value 46. With the word cap this bounds a line, so that a file of one endless line is
# refused after reading about that much, never slurped whole.
_MAX_VALUE_BYTES = 64
_DEFLATE_MAX_RATIO = 1032  # the most gzip can inflate: what a .gz file's length allows
# A word has at most as many characters as the corpus reader keeps bytes of a token (an invalid
# byte decodes to one U+FFFD), so at most 4 UTF-8 bytes a character.
MAX_WORD_CHARS = MAX_TOKEN_BYTES
_MAX_WORD_BYTES = 4 * MAX_WORD_CHARS
# Characters a word may not contain: every word2vec reader splits records on them.
_FIELD_BREAK = re.compile(r"[ \t\n\r\x0b\x0c]")
# Bytes that never occur in a text vectors file but are common in raw float32 data.
_NON_TEXT_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1f\x7f]")


def save_vectors(path: str, words: Sequence[str], matrix: np.ndarray, binary: bool = False) -> None:
    """Write word2vec text (``binary=False``) or C binary format; an old ``path`` survives any failure."""
    path, words = check_path(path), check_texts(words, "words")
    check_type(binary, "bool", "binary")
    matrix = np.ascontiguousarray(matrix, dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape[0] != len(words) or matrix.size == 0:
        raise FastembError(f"{path}: cannot save a matrix of shape {matrix.shape} for {len(words)} words")
    for row, word in enumerate(words):
        if not word or _FIELD_BREAK.search(word):
            raise FastembError(f"{path}: cannot save word {row + 1} ({word!r}): words must be non-empty "
                               "and free of spaces, tabs and newlines in word2vec files")
    # Checked a block at a time: a whole-matrix mask would be the largest thing in memory while saving.
    block_rows = max(1, _SAVE_BLOCK_VALUES // matrix.shape[1])
    for start in range(0, len(words), block_rows):
        finite = np.isfinite(matrix[start:start + block_rows]).all(axis=1)
        if not finite.all():
            row = start + int(np.argmin(finite))
            raise FastembError(f"{path}: the vector of {words[row]!r} contains NaN or infinite values; not saving")
    with atomic_output(path, "wb") as handle:
        handle.write(f"{len(words)} {matrix.shape[1]}\n".encode("ascii"))
        for start in range(0, len(words), block_rows):
            names = [word.encode("utf-8") for word in words[start:start + block_rows]]
            block = matrix[start:start + block_rows]
            records = zip(names, _binary_rows(block) if binary else _format_rows(block))
            handle.write(b"".join(piece for name, values in records for piece in (name, b" ", values)))


def _binary_rows(block: np.ndarray) -> list[bytes]:
    """Each row as little-endian float32 bytes plus the newline word2vec C writes after it."""
    raw = block.astype("<f4").tobytes()
    width = 4 * block.shape[1]
    return [raw[i:i + width] + b"\n" for i in range(0, len(raw), width)]


def _format_rows(block: np.ndarray) -> list[bytes]:
    """Each row's values as Python's ``'%.9g'`` would print them, space separated, newline-terminated.

    Nine significant digits always round-trip a float32 exactly. Python's ``%``
    costs ~300 ns a value, so the text is laid out with array arithmetic
    instead: every value gets the same 29 character slots (sign, "0.", up to 3
    leading zeros, 9 digits each followed by a possible ".", exponent,
    separator); unused slots hold NUL and are deleted at the end.
    """
    rows, dim = block.shape
    values = block.astype(np.float64).ravel()
    magnitude = np.abs(values)
    nonzero = magnitude > 0
    exponent = np.zeros(values.size, dtype=np.int64)
    exponent[nonzero] = np.floor(np.log10(magnitude[nonzero]))
    # log10 can be off by one next to a power of ten, and rounding can carry into a tenth digit.
    for _ in range(3):
        significand = np.rint(magnitude * 10.0 ** (8 - exponent)).astype(np.uint32)
        adjust = (significand >= 10 ** 9).astype(np.int64) - (nonzero & (significand < 10 ** 8))
        if not adjust.any():
            break
        exponent += adjust
    digits = np.empty((values.size, 9), dtype=np.uint8)
    for k in range(8, -1, -1):  # dividing by a scalar is far faster than by an array of powers
        quotient = significand // 10
        digits[:, k] = significand - quotient * 10
        significand = quotient
    last = 8 - np.argmax(digits[:, ::-1] != 0, axis=1)  # last nonzero digit ('%g' drops trailing zeros)
    last[~nonzero] = 0
    scientific = (exponent < -4) | (exponent >= 9)
    integral = ~scientific & (exponent >= 0)

    chars = np.zeros((values.size, 29), dtype=np.uint8)
    chars[:, 0] = np.where(np.signbit(values), ord("-"), 0)
    fraction = np.flatnonzero(~scientific & (exponent < 0))
    chars[fraction, 1] = ord("0")
    chars[fraction, 2] = ord(".")
    chars[fraction, 3:6] = np.where(np.arange(3) < -exponent[fraction, None] - 1, ord("0"), 0)
    shown = np.where(integral, np.maximum(last, exponent), last)
    chars[:, 6:24:2] = np.where(np.arange(9) <= shown[:, None], digits + ord("0"), 0)
    point_after = np.where(integral, exponent, 0)
    pointed = np.flatnonzero((scientific | integral) & (last > point_after))
    chars[pointed, 7 + 2 * point_after[pointed]] = ord(".")
    powers = np.flatnonzero(scientific)
    chars[powers, 24] = ord("e")
    chars[powers, 25] = np.where(exponent[powers] < 0, ord("-"), ord("+"))
    chars[powers, 26] = np.abs(exponent[powers]) // 10 + ord("0")
    chars[powers, 27] = np.abs(exponent[powers]) % 10 + ord("0")
    chars[:, 28] = ord(" ")
    chars[dim - 1::dim, 28] = ord("\n")
    return chars.tobytes().translate(None, b"\0").splitlines(keepends=True)


def read_vectors(path: str, binary: bool | None = None, limit: int | None = None, with_index: bool = False):
    """(words, float32 matrix) of a word2vec text or binary file (format detected when ``binary`` is None);
    ``with_index``: (words, matrix, {word: row}), the index the reader builds to refuse duplicates.

    ``limit`` keeps only the first (most frequent) words. Any malformed input
    raises FastembError naming the file, the line (or record) and the problem.
    """
    path = check_path(path)
    check_type(binary, "bool | None", "binary")
    check_type(limit, "int | None", "limit")
    if limit is not None and limit <= 0:
        raise ValueError("limit must be a positive number of words")
    # A number too large for float32 parses as inf and is reported below with its line.
    with open_binary(path) as handle, np.errstate(over="ignore", invalid="ignore"):
        try:
            count, dim = _read_header(handle, path)
            header_bytes = handle.tell()
            # Enough to hold the first binary record (and more) for telling binary from text.
            sample = handle.read(min(4 * dim + 1024, 1 << 20))
            if binary is None:
                while b"\n" not in sample and len(sample) < 1 << 20:  # a text row with a very long word
                    more = handle.read(1 << 16)
                    if not more:
                        break
                    sample += more
                binary = _looks_binary(sample, dim)
            wanted = count if limit is None else min(limit, count)
            try:
                matrix = np.empty((_rows_to_allocate(path, wanted, dim, header_bytes), dim), dtype=np.float32)
            except MemoryError:
                raise FastembError(f"{path}: line 1: the header declares {count:,} x {dim:,} values, "
                                   "too many to fit in memory") from None
            rows = _Rows(path, count, matrix, *(("record", "records") if binary else ("line", "rows")))
            if not (binary and _mappable(path) and _read_binary_file(path, header_bytes, rows)):
                (_read_binary if binary else _read_text)(handle, sample, rows)
        except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:  # corrupt compressed data, I/O error
            raise FastembError(f"{path}: cannot read ({exc})") from None
    if len(rows.words) < wanted:
        raise FastembError(f"{path}: file has {len(rows.words)} vector {rows.noun} but the header says {count}")
    block_rows = max(1, _SAVE_BLOCK_VALUES // dim)
    for start in range(0, len(matrix), block_rows):  # a block at a time: no whole-matrix mask
        finite = np.isfinite(matrix[start:start + block_rows]).all(axis=1)
        if not finite.all():
            raise FastembError(f"{path}: {rows.place_of(start + int(np.argmin(finite)))}: NaN or infinite value")
    return (rows.words, matrix, rows.row_of) if with_index else (rows.words, matrix)


def _rows_to_allocate(path: str, wanted: int, dim: int, header_bytes: int) -> int:
    """How many of the header's ``wanted`` rows can be in the file: no more are allocated.

    The shortest record is a one-byte word and ``dim`` one-digit values, each after a
    space: 2 * dim + 1 bytes (a binary record is longer). A header that declares more
    rows than that is found out by counting them (the error says how many there are);
    one whose single row cannot fit is refused at once. A .gz file may inflate at most
    gzip's ratio; .bz2 and .xz have no such bound: only memory limits them.
    """
    from ..base.limits import check_fits_in_memory, megabytes
    info = os.stat(path)
    suffix = os.path.splitext(path)[1].lower()
    room = (None if not stat.S_ISREG(info.st_mode) or suffix in (".bz2", ".xz")  # a pipe's length is unknown
            else _DEFLATE_MAX_RATIO * info.st_size if suffix == ".gz" else info.st_size - header_bytes)
    if room is not None:
        if room < 2 * dim + 1:
            raise FastembError(f"{path}: line 1: the header declares vectors of dimension {dim:,}: one takes at "
                               f"least {megabytes(2 * dim + 1)}, but the file holds {megabytes(max(room, 0))} after "
                               "the header")
        wanted = min(wanted, room // (2 * dim + 1))
    check_fits_in_memory(wanted * dim * 4, f"{path}: line 1", f"the header's {wanted:,} words of dimension {dim:,}")
    return wanted


def _read_header(handle, path: str) -> tuple[int, int]:
    line = handle.readline(4096)
    if not line:
        raise FastembError(f"{path}: file is empty")
    text = line.decode("utf-8", errors="replace").lstrip("\ufeff").strip()
    fields = text.split()
    if len(fields) != 2 or not all(re.fullmatch(r"-?[0-9]+", field) for field in fields):
        shown = text if len(text) <= 60 else text[:57] + "..."
        hint = " (a GloVe file? add that line first)" if len(fields) > 2 else ""
        raise FastembError(f"{path}: line 1: header must be two integers 'count dim', found {shown!r}{hint}")
    count, dim = int(fields[0]), int(fields[1])
    if count <= 0 or dim <= 0:
        raise FastembError(f"{path}: line 1: the header declares {count} words of dimension {dim}; "
                           "both must be positive")
    return count, dim


def _looks_binary(sample: bytes, dim: int) -> bool:
    """Whether the bytes after the header hold raw float32 records rather than text."""
    first_line, newline, _ = sample.partition(b"\n")
    fields = first_line.split()
    if newline and len(fields) == dim + 1:
        try:
            np.array(fields[1:], dtype=np.float32)
            return False
        except ValueError:
            pass
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason != "unexpected end of data":  # not merely a character cut by the sample's end
            return True
    return _NON_TEXT_BYTES.search(sample) is not None


class _Rows:
    """The words read so far, where each came from, and the checks every format shares."""

    def __init__(self, path: str, count: int, matrix: np.ndarray, unit: str, noun: str):
        self.path, self.count, self.matrix, self.unit, self.noun = path, count, matrix, unit, noun
        self.words: list[str] = []
        self.numbers: list[int] = []  # line or record number of each row, for messages
        self.row_of: dict[str, int] = {}

    @property
    def full(self) -> bool:
        return len(self.words) == len(self.matrix)

    def refuse_extra(self, number: int):
        self.fail(number, f"more {self.noun} than the {self.count} the header declares")

    def place_of(self, row: int) -> str:
        return f"{self.unit} {self.numbers[row]}"

    def fail(self, number: int, problem: str):
        raise FastembError(f"{self.path}: {self.unit} {number}: {problem}")

    def add_all(self, words: list[str], byte_lengths: np.ndarray) -> None:
        """Register the words of records 1, 2, ... at once (``byte_lengths``: their UTF-8 lengths)."""
        for row in np.flatnonzero(byte_lengths > MAX_WORD_CHARS):  # only these can have too many characters
            if len(words[row]) > MAX_WORD_CHARS:
                _refuse_long_word(words[row], row + 1, rows=self)
        self.row_of = dict(zip(words, range(len(words))))
        if len(self.row_of) != len(words):
            seen = {}
            for row, word in enumerate(words):
                if seen.setdefault(word, row) != row:
                    self.fail(row + 1, f"duplicate word {word!r} (first at {self.unit} {seen[word] + 1})")
        self.words, self.numbers = words, range(1, len(words) + 1)

    def add(self, word_bytes: bytes, number: int) -> int:
        """Register the next word; returns its row in the matrix."""
        word = word_bytes.decode("utf-8", errors="replace")
        if len(word) > MAX_WORD_CHARS:
            _refuse_long_word(word, number, rows=self)
        row = self.row_of.setdefault(word, len(self.words))
        if row != len(self.words):
            self.fail(number, f"duplicate word {word!r} (first at {self.place_of(row)})")
        self.words.append(word)
        self.numbers.append(number)
        return row


def _read_text(handle, sample: bytes, rows: _Rows) -> None:
    dim = rows.matrix.shape[1]
    stop_early = len(rows.matrix) < rows.count  # with a limit, the rest of the file is not read
    max_line = _MAX_WORD_BYTES + (dim + 1) * _MAX_VALUE_BYTES
    line_number = 1
    pending = sample
    while True:
        chunk = handle.read(_READ_CHUNK_BYTES)
        lines = (pending + chunk).split(b"\n")
        pending = lines.pop() if chunk else b""
        for line in lines:
            line_number += 1
            if len(line) > max_line:
                _refuse_long_line(line[:max_line + 1], line_number, dim, max_line, rows)
            fields = line.split()  # also drops fastText's trailing space and Windows' \r
            if not fields:
                continue
            if rows.full:
                rows.refuse_extra(line_number)
            if len(fields) != dim + 1:
                rows.fail(line_number, f"expected {dim} values after the word, found {len(fields) - 1}")
            row = rows.add(fields[0], line_number)
            try:
                rows.matrix[row] = fields[1:]  # numpy parses the byte strings itself: fastest path measured
            except ValueError:
                rows.fail(line_number, f"{_first_non_number(fields[1:])!r} is not a number")
            if stop_early and rows.full:
                return
        if not chunk:
            return
        if len(pending) > max_line:  # the line so far is already too long to be a row: never read it all
            _refuse_long_line(pending[:max_line + 1], line_number + 1, dim, max_line, rows)


def _refuse_long_word(word: bytes | str, number: int, rows: _Rows):
    shown = word[:20] if isinstance(word, str) else word[:20].decode('utf-8', 'replace')
    rows.fail(number, f"the word {shown!r}... is longer than {MAX_WORD_CHARS:,} characters "
                      "(the corpus reader's limit on a token)")


def _refuse_long_line(start: bytes, number: int, dim: int, max_line: int, rows: _Rows):
    """The line beginning with ``start`` (more than ``max_line`` bytes) cannot be a row; say why."""
    fields = start.split()
    if fields and len(fields[0].decode("utf-8", "replace")) > MAX_WORD_CHARS:
        _refuse_long_word(fields[0], number, rows)
    if len(fields) > dim + 1:
        rows.fail(number, f"expected {dim} values after the word, found more")
    rows.fail(number, f"line longer than {max_line:,} bytes: more than a word of at most {MAX_WORD_CHARS:,} "
                      f"characters and {dim} numbers of at most {_MAX_VALUE_BYTES} characters")


def _first_non_number(fields: list[bytes]) -> str:
    for field in fields:
        try:
            float(field)
        except ValueError:
            return field.decode("utf-8", errors="replace")[:40]
    return "?"


def _mappable(path: str) -> bool:
    """A regular file read as it is stored (no compression): its bytes can be mapped."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode) and not compressed(path)
    except OSError:
        return False


def _read_binary_file(path: str, header_bytes: int, rows: _Rows) -> bool:
    """A binary file's records at the speed of its bytes: read in large blocks, each scanned by one kernel
    that finds the words and vectors and copies the vectors, the words decoded at once. False (nothing
    kept) when a word holds a newline, which the one-pass decoding cannot tell apart: the record reader
    takes the file then."""
    from ..kernels.vector_files import (TRUNCATED_IN_VECTOR, TRUNCATED_IN_WORD, WORD_TOO_LONG,
                                        gather_records, only_space_after, scan_records)
    wanted, vector_bytes = len(rows.matrix), 4 * rows.matrix.shape[1]
    block = np.empty(max(_BINARY_BLOCK_BYTES, 4 * (_MAX_WORD_BYTES + vector_bytes + 16)), np.uint8)
    word_starts, word_ends, vector_starts = (np.empty(wanted, np.int64) for _ in range(3))
    words: list[str] = []
    lengths = []
    done, carried = 0, 0  # records read; bytes kept from the last block
    with open(path, "rb") as handle:
        handle.seek(header_bytes)
        while True:
            got = handle.readinto(memoryview(block)[carried:])
            end, at_end = carried + got, got == 0
            data = block[:end]
            found, position, ended = scan_records(data, 0, vector_bytes, _MAX_WORD_BYTES, word_starts[done:],
                                                  word_ends[done:], vector_starts[done:])
            if ended == WORD_TOO_LONG:
                _refuse_long_word(data[position:position + 20].tobytes(), done + found + 1, rows)
            if at_end and ended == TRUNCATED_IN_WORD:
                rows.fail(done + found + 1, f"binary file truncated inside the word ({rows.count} records declared)")
            if at_end and ended == TRUNCATED_IN_VECTOR:
                word = data[position:].tobytes().split(b" ", 1)[0]
                rows.fail(done + found + 1, f"binary file truncated in the vector of "
                                            f"{word.decode('utf-8', 'replace')!r}: expected {vector_bytes} bytes, "
                                            f"found {end - position - len(word) - 1}")
            span = slice(done, done + found)
            byte_lengths = word_ends[span] - word_starts[span]
            blob = np.empty(int(byte_lengths.sum()) + found, np.uint8)
            gather_records(data, word_starts[span], word_ends[span], vector_starts[span], blob,
                           rows.matrix[span].view(np.uint8))
            piece = blob.tobytes().decode("utf-8", errors="replace").split("\n")[:-1]
            if len(piece) != found:
                return False
            words += piece
            lengths.append(byte_lengths)
            done += found
            if done == wanted or at_end:
                break
            carried = end - position  # an incomplete record (or nothing) goes to the next block's front
            block[:carried] = block[position:end]
        if done == rows.count:  # every record the header declares: nothing but whitespace may follow
            rest = data[position:]
            while only_space_after(rest, 0):
                more = handle.read(len(block))
                if not more:
                    break
                rest = np.frombuffer(more, np.uint8)
            else:
                rows.refuse_extra(done + 1)
    if sys.byteorder != "little":
        rows.matrix[:done].byteswap(inplace=True)
    rows.add_all(words, np.concatenate(lengths) if lengths else np.zeros(0, np.int64))
    return True


def _read_binary(handle, sample: bytes, rows: _Rows) -> None:
    vector_bytes = 4 * rows.matrix.shape[1]
    data, start = sample, 0

    def read_more() -> bool:
        nonlocal data, start
        chunk = handle.read(max(_READ_CHUNK_BYTES, 2 * vector_bytes))
        if chunk:
            data, start = data[start:] + chunk, 0
        return bool(chunk)

    def skip_whitespace() -> bool:
        """Move past separators (word2vec C ends each vector with a newline, gensim does not); False at EOF."""
        nonlocal start
        while True:
            while start < len(data) and data[start] in b" \t\r\n\x0b\x0c":
                start += 1
            if start < len(data) or not read_more():
                return start < len(data)

    record = 0
    while not rows.full and skip_whitespace():
        record += 1
        space = data.find(b" ", start)
        while space < 0:
            searched = len(data) - start
            if searched > _MAX_WORD_BYTES:  # no space within a word's length: never read the rest
                _refuse_long_word(data[start:start + 20], record, rows)
            if not read_more():
                rows.fail(record, f"binary file truncated inside the word ({rows.count} records declared)")
            space = data.find(b" ", searched)
        row = rows.add(data[start:space], record)
        vector_offset = space + 1 - start
        while len(data) - start - vector_offset < vector_bytes:
            if not read_more():
                found = len(data) - start - vector_offset
                rows.fail(record, f"binary file truncated in the vector of {rows.words[row]!r}: "
                                  f"expected {vector_bytes} bytes, found {found}")
        rows.matrix[row] = np.frombuffer(data, dtype="<f4", count=rows.matrix.shape[1], offset=start + vector_offset)
        start += vector_offset + vector_bytes
    if len(rows.words) == rows.count and skip_whitespace():
        rows.refuse_extra(record + 1)
