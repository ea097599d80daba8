"""word2vec binary vector files scanned in one pass: where each record's word and vector lie.

A record is a word, a space, ``dim`` little-endian float32 values and, in word2vec C's files, a
newline; the word's length is only known by reading it, so the scan is sequential, but it touches
just the bytes of the words and whitespace, and the vectors are then copied in one pass.
"""

from .compiling import kernel

ENDED, WORD_TOO_LONG, TRUNCATED_IN_WORD, TRUNCATED_IN_VECTOR = 0, 1, 2, 3


@kernel
def _is_space(byte) -> bool:
    return byte == 32 or 9 <= byte <= 13


@kernel
def scan_records(data, start, vector_bytes, max_word_bytes, word_starts, word_ends, vector_starts):
    """Fill the three int64 arrays with the records of ``data[start:]``, up to their length.

    Returns (records found, position after the last, ENDED or what stopped the scan). On an error
    the position is where the failing record starts.
    """
    n, position = len(data), start
    for record in range(len(word_starts)):
        while position < n and _is_space(data[position]):
            position += 1
        if position >= n:
            return record, position, ENDED
        word_start = position
        while position < n and data[position] != 32:
            position += 1
            if position - word_start > max_word_bytes:
                return record, word_start, WORD_TOO_LONG
        if position >= n:
            return record, word_start, TRUNCATED_IN_WORD
        word_starts[record], word_ends[record] = word_start, position
        position += 1
        if position + vector_bytes > n:
            return record, word_start, TRUNCATED_IN_VECTOR
        vector_starts[record] = position
        position += vector_bytes
    return len(word_starts), position, ENDED


@kernel
def only_space_after(data, position) -> bool:
    for i in range(position, len(data)):
        if not _is_space(data[i]):
            return False
    return True


@kernel
def gather_records(data, word_starts, word_ends, vector_starts, words_blob, rows):
    """The words, each followed by a newline, into ``words_blob``; the vectors' bytes into ``rows``
    (uint8, one row a record)."""
    at = 0
    for record in range(len(word_starts)):
        for i in range(word_starts[record], word_ends[record]):
            words_blob[at] = data[i]
            at += 1
        words_blob[at] = 10
        at += 1
        start = vector_starts[record]
        rows[record, :] = data[start:start + rows.shape[1]]
    return at
