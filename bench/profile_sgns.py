"""Kernel-only skip-gram throughput: words/sec on an in-memory encoded corpus, no I/O.

    python bench/profile_sgns.py [CORPUS] [--tokens N] [--threads 1,2] [--kernel pair,batched] [--repeat 3]

Reads (at most --tokens of) the corpus once, then times one epoch of each kernel
and thread count, interleaved and repeated; prints the median words/sec.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fastemb import sgns  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="?", default=str(ROOT.parent / "shared" / "data" / "en-mix-small.txt.gz"))
    parser.add_argument("--tokens", type=int, default=5_000_000)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--kernel", default="pair,batched")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sample", type=float, default=1e-4)
    parser.add_argument("--dim", type=int, default=100)
    args = parser.parse_args(argv)

    config = sgns.SkipGramConfig(sample=args.sample, dim=args.dim, epochs=1, max_memory=float("inf"))  # in memory
    vocab, corpus = sgns.read_corpus(args.corpus, config)
    corpus = corpus.head(args.tokens)
    print(f"corpus: {corpus.n_tokens:,} tokens, vocabulary {len(vocab):,}; compile {sgns.warm_up():.2f} s")
    runs = {}
    for _ in range(args.repeat):
        for kernel in args.kernel.split(","):
            for threads in map(int, args.threads.split(",")):
                config.kernel, config.threads = kernel, threads
                started = time.perf_counter()
                sgns.train(corpus, vocab, config)
                runs.setdefault((kernel, threads), []).append(corpus.n_tokens / (time.perf_counter() - started))
    for (kernel, threads), rates in runs.items():
        print(f"{kernel:8s} threads {threads}: median {statistics.median(rates):12,.0f} words/sec "
              f"({statistics.median(rates) / threads:10,.0f} per thread; min {min(rates):,.0f}, max {max(rates):,.0f})")


if __name__ == "__main__":
    main()
