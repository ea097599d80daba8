"""fastText's FNV-1a hash (``Dictionary::hash``): over *signed* bytes, so bytes >= 0x80 enter as 0xFFFFFFxx.

One implementation for the words of the labelled encoder, the character n-grams of subwords and the
word index of fastText's files: their buckets and slots must be fastText's to the bit.
"""
import numpy as np

from .compiling import kernel

FNV_OFFSET = np.uint64(2166136261)
_FNV_PRIME = np.uint64(16777619)
_MASK32 = np.uint64(0xFFFFFFFF)


@kernel
def fnv1a_step(h, byte):
    """One byte of fastText's FNV-1a (a uint64 holding 32 bits): the byte is xored as a *signed* char."""
    b = np.uint64(byte)
    if b >= 128:
        b |= np.uint64(0xFFFFFF00)
    return ((h ^ b) * _FNV_PRIME) & _MASK32


@kernel
def fnv1a(data, begin, end):
    """fastText's ``Dictionary::hash`` of data[begin:end]."""
    h = FNV_OFFSET
    for i in range(begin, end):
        h = fnv1a_step(h, data[i])
    return h


@kernel
def fnv1a_hashes(data, starts):
    """fastText's word hash for each byte string data[starts[w]:starts[w+1]], as uint32."""
    n = len(starts) - 1
    hashes = np.empty(n, dtype=np.uint32)
    for w in range(n):
        hashes[w] = fnv1a(data, starts[w], starts[w + 1])
    return hashes
