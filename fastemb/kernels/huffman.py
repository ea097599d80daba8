"""Huffman tree paths for hierarchical softmax, built exactly as word2vec's ``CreateBinaryTree``.

word2vec (and fastText's ``HierarchicalSoftmaxLoss::buildTree``) build the tree with two cursors:
one walks the leaves from the rarest end of the vocabulary, the other walks the inner nodes in
creation order. Each step merges the two smallest; a leaf is taken only when its count is strictly
below the inner node's, so ties take the inner node. The second node taken gets code 1. Matching
this rule (not just building *a* Huffman tree) gives the same codes, and so the same training, as
word2vec and fastText.

Training uses, for each leaf, the inner nodes on its path root first and a label per node
(word2vec trains ``g = (1 - code - f) * alpha``, so the label is ``1 - code``).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .compiling import kernel


class HuffmanPaths(NamedTuple):
    nodes: np.ndarray    # int32, flat: inner nodes on each leaf's path, root first
    labels: np.ndarray   # float32, flat: 1 - code for each node on the path
    offsets: np.ndarray  # int64, len(counts) + 1: leaf i's path is nodes[offsets[i]:offsets[i + 1]]


@kernel
def _build_paths(counts):
    v = counts.shape[0]
    root = 2 * v - 2
    # Nodes 0..v-1 are the leaves, v..2v-2 the inner nodes in creation order (word2vec's layout).
    count = np.empty(2 * v - 1, np.int64)
    count[:v] = counts
    parent = np.empty(2 * v - 1, np.int64)
    code = np.zeros(2 * v - 1, np.int8)
    leaf = v - 1
    inner = v
    for created in range(v, 2 * v - 1):
        total = 0
        for bit in range(2):
            # An inner node not created yet counts as larger than any leaf (word2vec's 1e15);
            # strict `<`: on a tie the inner node is taken.
            if leaf >= 0 and (inner == created or count[leaf] < count[inner]):
                node = leaf
                leaf -= 1
            else:
                node = inner
                inner += 1
            parent[node] = created
            code[node] = bit
            total += count[node]
        count[created] = total

    # A parent is always created after its children, so one pass from the root down gives depths.
    depth = count  # the counts are no longer needed
    depth[root] = 0
    for node in range(root - 1, -1, -1):
        depth[node] = depth[parent[node]] + 1
    offsets = np.empty(v + 1, np.int64)
    offsets[0] = 0
    for i in range(v):
        offsets[i + 1] = offsets[i] + depth[i]

    nodes = np.empty(offsets[v], np.int32)
    labels = np.empty(offsets[v], np.float32)
    for i in range(v):
        position = offsets[i + 1]
        node = i
        while node != root:
            position -= 1
            # Renumbered id = root - index, i.e. (v - 2) - word2vec's point: the root is 0 and ids
            # grow away from it in reverse creation order. The kernels give each thread private
            # copies of the lowest-id rows, which must be the hottest; every path passes the root.
            nodes[position] = root - parent[node]
            labels[position] = 1 - code[node]
            node = parent[node]
    return nodes, labels, offsets


def huffman_paths(counts: np.ndarray) -> HuffmanPaths:
    """Paths of word2vec's Huffman tree over ``counts``, with the V - 1 inner nodes numbered 0..V-2.

    ``counts``: leaf counts in vocabulary order, normally descending. The tree is defined on the
    given order, as in word2vec (which sorts before building), so it is not re-sorted: words with
    count 0 at the end (kept from --init) stay where they are.
    """
    counts = np.ascontiguousarray(counts, dtype=np.int64)
    if counts.ndim != 1:
        raise ValueError("hierarchical softmax counts must be one-dimensional")
    if counts.shape[0] < 2:
        raise ValueError("hierarchical softmax needs at least 2 words or labels")
    if counts.min() < 0:
        raise ValueError("hierarchical softmax counts must not be negative")
    return HuffmanPaths(*_build_paths(counts))


def max_path_length(paths: HuffmanPaths) -> int:
    """The longest leaf path (word2vec's longest code), e.g. to size per-thread buffers."""
    return int(np.diff(paths.offsets).max())
