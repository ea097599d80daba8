"""The row kernels of a distributed round: finding the rows a shard changed, adding shards' changes, applying
the combined change. Each is one pass over the rows involved (numpy's fancy indexing makes several, with
temporaries the size of the model), which matters because every round runs them over the whole model.
"""
from __future__ import annotations

import numpy as np

from .compiling import kernel


@kernel
def take_changes(replica, model, ids, delta):
    """Rows where ``replica`` differs from ``model``: their ids and replica - model go to the front of ``ids``
    and ``delta``, and the replica's rows are put back to the model's. Returns how many rows changed."""
    n = 0
    dim = model.shape[1]
    for row in range(model.shape[0]):
        changed = False
        for d in range(dim):
            if replica[row, d] != model[row, d]:
                changed = True
                break
        if changed:
            ids[n] = row
            for d in range(dim):
                delta[n, d] = replica[row, d] - model[row, d]
                replica[row, d] = model[row, d]
            n += 1
    return n


@kernel
def add_changes(total, touched, ids, delta):
    """total[ids] += delta and touched[ids] += 1 (a shard's ids are distinct)."""
    for i in range(len(ids)):
        row = ids[i]
        touched[row] += 1
        for d in range(total.shape[1]):
            total[row, d] += delta[i, d]


@kernel
def apply_changes(table, total, touched, divide_by_touched, slow_rows, slow_divisor, divisor, ids, values):
    """Add each touched row's total change, divided by ``divisor`` (rows below ``slow_rows``: by
    ``slow_divisor``) or (``divide_by_touched``) by how many shards changed it, to ``table``; its id and new
    value go to the front of ``ids`` and ``values``; the totals and counts are zeroed for the next round.
    Returns how many rows changed."""
    n = 0
    dim = table.shape[1]
    for row in range(table.shape[0]):
        count = touched[row]
        if count == 0:
            continue
        scale = np.float32(1.0) / np.float32(count if divide_by_touched else
                                             (slow_divisor if row < slow_rows else divisor))
        ids[n] = row
        for d in range(dim):
            value = table[row, d] + total[row, d] * scale
            table[row, d] = value
            values[n, d] = value
            total[row, d] = 0.0
        touched[row] = 0
        n += 1
    return n


@kernel
def set_rows(table, ids, values):
    """table[ids] = values."""
    for i in range(len(ids)):
        row = ids[i]
        for d in range(values.shape[1]):
            table[row, d] = values[i, d]


def warm_up() -> float:
    """Compile (or load from Numba's cache) these kernels on tiny rows, before the first round; returns seconds."""
    import time
    started = time.perf_counter()
    table, other = np.zeros((2, 2), np.float32), np.ones((2, 2), np.float32)
    ids, delta = np.empty(2, np.int32), np.empty((2, 2), np.float32)
    n = take_changes(other, table, ids, delta)
    touched = np.zeros(2, np.int32)
    add_changes(other, touched, ids[:n], delta[:n])
    apply_changes(table, other, touched, False, 1, 2.0, 1.0, ids, delta)  # the driver's types (rounds.divisors)
    set_rows(table, ids[:n], delta[:n])
    return time.perf_counter() - started
