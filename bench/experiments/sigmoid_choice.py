"""Table sigmoid vs clamped exp inside the logistic block (why kernels/rows.py uses a table): A B A B, median.

    python bench/experiments/sigmoid_choice.py
"""
import math, time, statistics, numpy as np
from numba import njit
import sys, pathlib; sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from fastemb.kernels import rows as core

@njit(fastmath=True, nogil=True)
def sig_exp(logit, label):
    x = min(max(logit, -core.MAX_LOGIT), core.MAX_LOGIT)
    p = np.float32(1.0) / (np.float32(1.0) + math.exp(-x))
    if label > 0.5:
        return p, np.float32(-math.log(max(p, 1e-7)))
    return p, np.float32(-math.log(max(1 - p, 1e-7)))

def make(sig_kind):
    @njit(fastmath=True, nogil=True)
    def run(inp, out, rows_in, rows_out, labels, tables, reps):
        dim = inp.shape[1]
        hidden = np.empty((10, dim), np.float32); grad = np.zeros((10, dim), np.float32); g = np.empty(10, np.float32)
        total = 0.0
        for r in range(reps):
            base = (r * 7) % (rows_in.shape[0] - 10)
            for c in range(6):
                hidden[c, :] = inp[rows_in[base + c]]
            for o in range(6):
                out_row = out[rows_out[(base + o) % rows_out.shape[0]]]
                label = labels[o]
                for c in range(6):
                    h = hidden[c]
                    logit = np.float32(0.0)
                    for d in range(dim):
                        logit += h[d] * out_row[d]
                    if sig_kind == 0:
                        p, l = core.sigmoid_and_loss(logit, label, tables)
                    else:
                        p, l = sig_exp(logit, label)
                    g[c] = (label - p) * np.float32(0.001)
                    total += l
                core.output_update(hidden, 6, out_row, g, grad)
        return total
    return run

rng = np.random.default_rng(0)
inp = rng.standard_normal((20000, 100)).astype(np.float32) * 0.3
out = rng.standard_normal((20000, 100)).astype(np.float32) * 0.3
ri = rng.integers(0, 20000, 100000).astype(np.int32); ro = rng.integers(0, 20000, 100000).astype(np.int32)
labels = np.array([1, 0, 0, 0, 0, 0], np.float32); tables = core.make_tables()
runs = {0: make(0), 1: make(1)}
for k, f in runs.items(): f(inp, out, ri, ro, labels, tables, 10)
times = {0: [], 1: []}
for _ in range(5):
    for k, f in runs.items():
        t = time.perf_counter(); f(inp, out, ri, ro, labels, tables, 300000); times[k].append(time.perf_counter() - t)
print("table sigmoid: median %.3f s; clamped exp: median %.3f s; exp/table = %.2f" % (
    statistics.median(times[0]), statistics.median(times[1]), statistics.median(times[1]) / statistics.median(times[0])))
