"""Numba kernels of fastText's file format: its word look-up table and its dictionary entries."""
import numpy as np

from .compiling import kernel
from .hashing import fnv1a


# ---------------------------------------------------------------------------------------------
# Word look-up: fastText's own open-addressing table over the FNV-1a hash


@kernel
def same_bytes(data, begin, end, query):
    if end - begin != len(query):
        return False
    for i in range(len(query)):
        if data[begin + i] != query[i]:
            return False
    return True


@kernel
def build_index(data, starts):
    """Slots (-1 empty) of every word, probed linearly from hash % slots; the first of equal words wins."""
    n = len(starts) - 1
    slots = np.full(max(2 * n, 1), -1, dtype=np.int32)
    size = np.uint64(len(slots))
    for w in range(n):
        s = np.int64(fnv1a(data, starts[w], starts[w + 1]) % size)
        while slots[s] != -1:
            v = slots[s]
            if same_bytes(data, starts[v], starts[v + 1], data[starts[w]:starts[w + 1]]):
                break
            s = (s + 1) % len(slots)
        if slots[s] == -1:
            slots[s] = w
    return slots


@kernel
def find_word(data, starts, slots, query):
    s = np.int64(fnv1a(query, 0, len(query)) % np.uint64(len(slots)))
    while slots[s] != -1:
        v = slots[s]
        if same_bytes(data, starts[v], starts[v + 1], query):
            return v
        s = (s + 1) % len(slots)
    return -1


# ---------------------------------------------------------------------------------------------
# Dictionary entries: NUL-terminated bytes, int64 count, int8 type


@kernel
def parse_entries(buf, pos, size):
    """Read ``size`` entries from buf[pos:]. Returns (entries read, position after them, word bytes, their
    starts, counts, types); fewer entries than ``size`` means the file ended inside one."""
    n = len(buf)
    begins = np.empty(size, dtype=np.int64)
    ends = np.empty(size, dtype=np.int64)
    counts = np.zeros(size, dtype=np.int64)
    types = np.zeros(size, dtype=np.int8)
    read = 0
    for i in range(size):
        begin = pos
        while pos < n and buf[pos] != 0:
            pos += 1
        if pos + 10 > n:
            break
        begins[i], ends[i] = begin, pos
        pos += 1
        value = np.uint64(0)
        for k in range(8):
            value |= np.uint64(buf[pos + k]) << np.uint64(8 * k)
        counts[i] = np.int64(value)
        types[i] = np.int8(buf[pos + 8])
        pos += 9
        read += 1
    starts = np.zeros(read + 1, dtype=np.int64)
    for i in range(read):
        starts[i + 1] = starts[i] + ends[i] - begins[i]
    blob = np.empty(starts[read], dtype=np.uint8)
    for i in range(read):
        blob[starts[i]:starts[i + 1]] = buf[begins[i]:ends[i]]
    return read, pos, blob, starts, counts[:read], types[:read]


@kernel
def pack_entries(blob, starts, counts, types):
    """The bytes of the entries (the inverse of ``parse_entries``)."""
    n = len(starts) - 1
    out = np.empty(starts[n] + 10 * n, dtype=np.uint8)
    o = 0
    for i in range(n):
        for j in range(starts[i], starts[i + 1]):
            out[o] = blob[j]
            o += 1
        out[o] = 0
        value = np.uint64(counts[i])
        for k in range(8):
            out[o + 1 + k] = np.uint8((value >> np.uint64(8 * k)) & np.uint64(0xFF))
        out[o + 9] = np.uint8(types[i])
        o += 10
    return out
