"""Kernel-only skip-gram and CBOW throughput: words/sec on an in-memory encoded corpus, no I/O.

    python bench/experiments/profile_sgns.py [CORPUS] [--tokens N] [--threads 1,2] [--kernel pair,batched,cbow] [--repeat 3]
                                 [--hot-rows auto,0]

Reads (at most --tokens of) the corpus once, then times one epoch of each kernel,
thread count and number of per-thread private hot rows (threads > 1 only; ``auto`` is
the default), interleaved and repeated; prints the median words/sec.
"""
from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from fastemb.base.config import Word2VecConfig  # noqa: E402
from fastemb.training.word2vec import measure_throughput  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="?", default=str(ROOT.parent / "shared" / "data" / "en-mix-small.txt.gz"))
    parser.add_argument("--tokens", type=int, default=5_000_000)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--kernel", default="pair,batched", help="of pair, batched (skip-gram) and cbow")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sample", type=float, default=1e-4)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--hot-rows", default="auto")
    args = parser.parse_args(argv)

    config = Word2VecConfig(sample=args.sample, dim=args.dim, epochs=1, max_memory=float("inf"))  # in memory
    hot_rows = [None if value == "auto" else int(value) for value in args.hot_rows.split(",")]
    variants = [(kernel, threads, hot) for kernel in args.kernel.split(",") for threads in map(int, args.threads.split(","))
                for hot in (hot_rows if threads > 1 else [None])]
    configs = [dataclasses.replace(config, model="cbow" if kernel == "cbow" else "skipgram",
                                   kernel="batched" if kernel == "cbow" else kernel, threads=threads, hot_rows=hot)
               for kernel, threads, hot in variants]
    rounds = measure_throughput(args.corpus, configs, args.tokens, args.repeat, say=print)
    runs = {variant: [rates[i] for rates in rounds] for i, variant in enumerate(variants)}
    # The machine's speed drifts (a VM sharing its host's cache): the ratio to the first variant of
    # the same kernel within each round is steadier than a ratio of medians.
    for (kernel, threads, hot), rates in runs.items():
        first = runs[next(v for v in variants if v[0] == kernel)]
        ratio = statistics.median(r / f for r, f in zip(rates, first))
        hot = f"hot rows {'auto' if hot is None else hot}" if threads > 1 else ""
        print(f"{kernel:8s} threads {threads} {hot:14s}: median {statistics.median(rates):12,.0f} words/sec "
              f"({statistics.median(rates) / threads:10,.0f} per thread; min {min(rates):,.0f}, max {max(rates):,.0f}); "
              f"x{ratio:.2f} the first row of its kernel, median of the rounds")


if __name__ == "__main__":
    main()
