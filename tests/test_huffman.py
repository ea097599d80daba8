"""Huffman paths for hierarchical softmax: hand-built trees, word2vec's tie rule, a literal
transcription of word2vec's CreateBinaryTree, and the properties of an optimal prefix code.

Notation in the hand-worked trees: leaves are 0..V-1, inner nodes nV, nV+1, ... in creation order
(word2vec's indices); the renumbered id of inner node nK is (2V - 2) - K, so the root is 0.
Label = 1 - code, where code is 1 for the second node taken at a merge.
"""
from __future__ import annotations

import heapq
import math

import numpy as np
import pytest

from fastemb.kernels.huffman import HuffmanPaths, huffman_paths, max_path_length


def leaf_path(paths: HuffmanPaths, i: int) -> tuple[list[int], list[float]]:
    lo, hi = paths.offsets[i], paths.offsets[i + 1]
    return paths.nodes[lo:hi].tolist(), paths.labels[lo:hi].tolist()


def assert_paths(paths: HuffmanPaths, expected: list[tuple[list[int], list[int]]]) -> None:
    assert len(paths.offsets) == len(expected) + 1
    for i, (nodes, labels) in enumerate(expected):
        assert leaf_path(paths, i) == (nodes, [float(x) for x in labels]), f"leaf {i}"


def test_small_tree_by_hand():
    # counts [5, 3, 2, 1], V = 4; leaf cursor starts at leaf 3, inner cursor at n4 (not yet made).
    # n4: leaf3 (1) then leaf2 (2)                      -> n4 = 3; code(leaf3)=0, code(leaf2)=1
    # n5: leaf1 (3) < n4 (3)? no (tie) -> n4, then leaf1 -> n5 = 6; code(n4)=0,    code(leaf1)=1
    # n6: leaf0 (5) < n5 (6) -> leaf0, then n5          -> n6 = 11 (root); code(leaf0)=0, code(n5)=1
    # ids: n6 -> 0, n5 -> 1, n4 -> 2.
    paths = huffman_paths(np.array([5, 3, 2, 1]))
    assert_paths(paths, [
        ([0], [1]),              # leaf0: codes 0
        ([0, 1], [0, 0]),        # leaf1: codes 1 (n5), 1 (leaf1)
        ([0, 1, 2], [0, 1, 0]),  # leaf2: codes 1, 0 (n4), 1 (leaf2)
        ([0, 1, 2], [0, 1, 1]),  # leaf3: codes 1, 0, 0 (leaf3)
    ])
    assert paths.nodes.dtype == np.int32 and paths.labels.dtype == np.float32
    assert paths.offsets.dtype == np.int64
    assert max_path_length(paths) == 3


def test_balanced_tree_by_hand():
    # counts [3, 3, 2, 2] (no equal comparisons between a leaf and an inner node):
    # n4: leaf3 (2), leaf2 (2)              -> n4 = 4; code(leaf3)=0, code(leaf2)=1
    # n5: leaf1 (3) < n4 (4) -> leaf1; leaf0 (3) < n4 (4) -> leaf0 -> n5 = 6; code(leaf0)=1
    # n6: leaves used up -> n4, then n5     -> root; code(n4)=0, code(n5)=1
    # ids: n6 -> 0, n5 -> 1, n4 -> 2.
    assert_paths(huffman_paths(np.array([3, 3, 2, 2])), [
        ([0, 1], [0, 0]),  # codes 1 (n5), 1 (leaf0)
        ([0, 1], [0, 1]),  # codes 1, 0 (leaf1)
        ([0, 2], [1, 0]),  # codes 0 (n4), 1 (leaf2)
        ([0, 2], [1, 1]),  # codes 0, 0 (leaf3)
    ])


def test_six_leaves_with_ties_by_hand():
    # counts [4, 3, 2, 2, 1, 1], V = 6, inner n6..n10, id = 10 - K.
    # n6:  leaf5 (1), leaf4 (1)                                   -> 2; code(leaf4)=1
    # n7:  leaf3 (2) < n6 (2)? no -> n6; leaf3 (2) < n7 (unmade)  -> 4; code(leaf3)=1
    # n8:  leaf2 (2) < n7 (4) -> leaf2; leaf1 (3) < n7 (4) -> leaf1 -> 5; code(leaf1)=1
    # n9:  leaf0 (4) < n7 (4)? no -> n7; leaf0 (4) < n8 (5) -> leaf0 -> 8; code(leaf0)=1
    # n10: leaves used up -> n8, n9                               -> 13 (root); code(n9)=1
    # ids: n10 -> 0, n9 -> 1, n8 -> 2, n7 -> 3, n6 -> 4.
    paths = huffman_paths(np.array([4, 3, 2, 2, 1, 1]))
    assert_paths(paths, [
        ([0, 1], [0, 0]),              # codes 1 (n9), 1 (leaf0)
        ([0, 2], [1, 0]),              # codes 0 (n8), 1 (leaf1)
        ([0, 2], [1, 1]),              # codes 0, 0 (leaf2)
        ([0, 1, 3], [0, 1, 0]),        # codes 1, 0 (n7), 1 (leaf3)
        ([0, 1, 3, 4], [0, 1, 1, 0]),  # codes 1, 0, 0 (n6), 1 (leaf4)
        ([0, 1, 3, 4], [0, 1, 1, 1]),  # codes 1, 0, 0, 0 (leaf5)
    ])
    # weighted path length 4*2 + 3*2 + 2*2 + 2*3 + 1*4 + 1*4 = 32 = 2 + 4 + 5 + 8 + 13 (merges)
    assert int(np.sum(np.diff(paths.offsets) * np.array([4, 3, 2, 2, 1, 1]))) == 32


def test_tie_takes_the_inner_node():
    # counts [2, 2, 1, 1]: n4 = leaf3 + leaf2 = 2. Then leaf1 (2) ties n4 (2): word2vec takes n4
    # first, then leaf1 -> n5 = 4; then leaf0 (2) < n5 (4) -> root = leaf0 + n5.
    # Depths [1, 2, 3, 3]. Taking the leaf on ties would instead merge leaf1 + leaf0 and give
    # depths [2, 2, 2, 2] (equally optimal, but not word2vec's tree).
    paths = huffman_paths(np.array([2, 2, 1, 1]))
    assert np.diff(paths.offsets).tolist() == [1, 2, 3, 3]
    # code(n4)=0 and code(leaf1)=1 at n5, so leaf1's label at n5 (id 1) is 0, leaf2's is 1.
    assert leaf_path(paths, 1) == ([0, 1], [0.0, 0.0])
    assert leaf_path(paths, 2)[1][1] == 1.0


def test_two_leaves():
    # counts [3, 1]: leaf1 taken first (code 0), leaf0 second (code 1); one inner node, the root 0.
    paths = huffman_paths(np.array([3, 1]))
    assert_paths(paths, [([0], [0]), ([0], [1])])


@pytest.mark.parametrize("counts", [[], [7]])
def test_fewer_than_two_leaves_is_an_error(counts):
    with pytest.raises(ValueError, match="at least 2 words or labels"):
        huffman_paths(np.array(counts, dtype=np.int64))


def word2vec_create_binary_tree(cn: list[int]) -> tuple[list[list[int]], list[list[int]]]:
    """Transcription of word2vec.c's CreateBinaryTree: returns (point, code) per word,
    point without the trailing leaf entry, i.e. the codelen inner nodes root first."""
    vocab_size = len(cn)
    count = [0] * (vocab_size * 2 + 1)
    binary = [0] * (vocab_size * 2 + 1)
    parent_node = [0] * (vocab_size * 2 + 1)
    for a in range(vocab_size):
        count[a] = cn[a]
    for a in range(vocab_size, vocab_size * 2):
        count[a] = int(1e15)
    pos = [vocab_size - 1, vocab_size]  # word2vec.c's pos1 (leaves, downwards) and pos2 (inner nodes, upwards)

    def smallest():  # word2vec.c's two identical blocks that pick min1i, then min2i
        if pos[0] >= 0 and count[pos[0]] < count[pos[1]]:
            pos[0] -= 1
            return pos[0] + 1
        pos[1] += 1
        return pos[1] - 1

    for a in range(vocab_size - 1):
        min1i = smallest()
        min2i = smallest()
        count[vocab_size + a] = count[min1i] + count[min2i]
        parent_node[min1i] = vocab_size + a
        parent_node[min2i] = vocab_size + a
        binary[min2i] = 1
    points, codes = [], []
    for a in range(vocab_size):
        b = a
        i = 0
        code_rev, point_rev = [], []
        while True:
            code_rev.append(binary[b])
            point_rev.append(b)
            i += 1
            b = parent_node[b]
            if b == vocab_size * 2 - 2:
                break
        codelen = i
        point = [0] * (codelen + 1)
        code = [0] * codelen
        point[0] = vocab_size - 2
        for b in range(i):
            code[i - b - 1] = code_rev[b]
            point[i - b] = point_rev[b] - vocab_size
        points.append(point[:codelen])
        codes.append(code)
    return points, codes


@pytest.mark.parametrize("seed", range(6))
def test_matches_word2vec_create_binary_tree(seed):
    rng = np.random.default_rng(seed)
    size = int(rng.integers(2, 2000))
    counts = rng.integers(0, 6, size=size) * int(rng.choice([1, 1000]))  # many ties, some zeros
    if seed % 3 == 0:
        counts = np.sort(counts)[::-1]  # vocabulary order
    elif seed % 3 == 1:
        counts = np.concatenate([np.sort(counts)[::-1][: size // 2], np.zeros(size - size // 2, int)])
    # seed % 3 == 2: unsorted; the construction is defined on the given order, so it must still agree.
    points, codes = word2vec_create_binary_tree(counts.tolist())
    expected_nodes = np.concatenate([(size - 2) - np.array(p) for p in points])
    expected_labels = np.concatenate([1 - np.array(c) for c in codes])
    expected_offsets = np.concatenate([[0], np.cumsum([len(p) for p in points])])
    paths = huffman_paths(counts)
    np.testing.assert_array_equal(paths.nodes, expected_nodes)
    np.testing.assert_array_equal(paths.labels, expected_labels)
    np.testing.assert_array_equal(paths.offsets, expected_offsets)


def optimal_cost(counts) -> int:
    """Weighted path length of any Huffman tree: the sum of all merged weights."""
    heap = [int(c) for c in counts]
    heapq.heapify(heap)
    cost = 0
    while len(heap) > 1:
        merged = heapq.heappop(heap) + heapq.heappop(heap)
        cost += merged
        heapq.heappush(heap, merged)
    return cost


def random_vocab_counts(seed: int) -> np.ndarray:
    rng = np.random.default_rng(100 + seed)
    size = int(rng.integers(2, 4000))
    if seed % 2:
        counts = rng.integers(1, 20, size=size)  # many ties
    else:
        counts = (rng.zipf(1.3, size=size)).clip(max=10**9)
    return np.sort(counts)[::-1].astype(np.int64)


@pytest.mark.parametrize("seed", range(8))
def test_optimal_prefix_code_properties(seed):
    counts = random_vocab_counts(seed)
    size = len(counts)
    paths = huffman_paths(counts)
    lengths = np.diff(paths.offsets)
    assert paths.offsets[0] == 0 and paths.offsets[-1] == len(paths.nodes) == len(paths.labels)
    assert lengths.min() >= 1

    # Kraft equality: a full binary tree.
    assert math.fsum(np.ldexp(1.0, -lengths)) == 1.0
    # Prefix-free codes (after sorting, a prefix would sit right before a string it starts).
    code_strings = sorted("".join(str(int(1 - x)) for x in leaf_path(paths, i)[1]) for i in range(size))
    assert len(set(code_strings)) == size
    assert not any(b.startswith(a) for a, b in zip(code_strings, code_strings[1:]))
    # Optimal weighted path length.
    assert int(np.sum(lengths * counts)) == optimal_cost(counts)

    # Every path starts at the root; ids cover 0..V-2; each inner node sits at one depth, has one
    # parent, and parents have smaller ids than children.
    assert set(paths.nodes.tolist()) == set(range(size - 1))
    depth_of, parent_of, children = {}, {}, {}
    for i in range(size):
        nodes, labels = leaf_path(paths, i)
        assert nodes[0] == 0
        for d, node in enumerate(nodes):
            assert depth_of.setdefault(node, d) == d
            if d:
                assert parent_of.setdefault(node, nodes[d - 1]) == nodes[d - 1]
                assert nodes[d - 1] < node
            child = ("inner", nodes[d + 1]) if d + 1 < len(nodes) else ("leaf", i)
            assert children.setdefault((node, labels[d]), child) == child
    # Every inner node has exactly two children, one per label.
    assert len(children) == 2 * (size - 1)

    # Lowest ids are the hottest: the traffic through an inner node never grows with its id.
    traffic = np.zeros(size - 1, np.int64)
    np.add.at(traffic, paths.nodes, np.repeat(counts, lengths))
    assert traffic[0] == counts.sum()
    assert np.all(np.diff(traffic) <= 0)


def test_counts_zero_at_the_end_are_not_resorted():
    # [3, 0, 1]: not sorted; built on the given order. Cursor at leaf2 (1):
    # n3: leaf2 (1), leaf1 (0) -> 1; code(leaf1)=1. n4: leaf0 (3) < n3 (1)? no -> n3, then leaf0 -> root.
    # ids: n4 -> 0, n3 -> 1.  leaf0: code 1.  leaf1: codes 0 (n3), 1.  leaf2: codes 0, 0.
    assert_paths(huffman_paths(np.array([3, 0, 1])), [([0], [0]), ([0, 1], [1, 0]), ([0, 1], [1, 1])])


def test_one_million_leaves():
    size = 1_000_000
    counts = (10**9 // np.arange(1, size + 1)).astype(np.int64)  # Zipf, long tail of ties
    paths = huffman_paths(counts)
    lengths = np.diff(paths.offsets)
    assert len(lengths) == size and paths.offsets[-1] == len(paths.nodes)
    assert math.fsum(np.ldexp(1.0, -lengths)) == 1.0
    assert paths.nodes.min() == 0 and paths.nodes.max() == size - 2
    assert max_path_length(paths) == lengths.max() <= 64
