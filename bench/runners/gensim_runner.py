"""Train gensim Word2Vec once and report its phases as JSON (run by ``python -m bench``, one process per run).

    python bench/runners/gensim_runner.py CORPUS VECTORS REPORT --mode corpus_file|iterable [--sg 1|0] [--hs 0|1]
                                  [--cbow-mean 1|0] [--dim ...]

``--sg``, ``--hs`` and ``--cbow-mean`` are gensim's ``sg``, ``hs`` and ``cbow_mean``;
with ``--hs 1`` negative sampling is off (``negative=0``: gensim would otherwise
train both losses at once), as in the other tools' hierarchical-softmax runs.

``corpus_file`` mode hands gensim the path (its Cython reader, one reader per
worker, no GIL); ``iterable`` mode streams ``LineSentence(CORPUS)`` through the
Python producer thread that feeds the workers (gensim's classic mode). The
vocabulary pass (``build_vocab``) is timed as reading, ``train()`` as training,
``save_word2vec_format`` (text) as saving.
"""
from __future__ import annotations

import argparse
import json
import time

started = time.perf_counter()
from gensim.models import Word2Vec  # noqa: E402
from gensim.models.word2vec import LineSentence  # noqa: E402
import gensim  # noqa: E402

import_seconds = time.perf_counter() - started


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus")
    parser.add_argument("vectors")
    parser.add_argument("report")
    parser.add_argument("--mode", choices=["corpus_file", "iterable"], default="corpus_file")
    parser.add_argument("--sg", type=int, choices=[0, 1], default=1, help="1: skip-gram, 0: CBOW")
    parser.add_argument("--hs", type=int, choices=[0, 1], default=0, help="1: hierarchical softmax, no negatives")
    parser.add_argument("--cbow-mean", type=int, choices=[0, 1], default=1, help="CBOW: 1 mean, 0 sum of the context")
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--negative", type=int, default=5)
    parser.add_argument("--sample", type=float, default=1e-4)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--alpha", type=float, default=0.025)
    parser.add_argument("--min-alpha", type=float, default=0.0001)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    model = Word2Vec(sg=args.sg, hs=args.hs, negative=0 if args.hs else args.negative, cbow_mean=args.cbow_mean,
                     vector_size=args.dim, window=args.window, sample=args.sample, min_count=args.min_count,
                     epochs=args.epochs, workers=args.threads, alpha=args.alpha, min_alpha=args.min_alpha,
                     seed=args.seed)
    source = {"corpus_file": args.corpus} if args.mode == "corpus_file" else {"corpus_iterable": LineSentence(args.corpus)}
    t0 = time.perf_counter()
    model.build_vocab(**source)
    read_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    trained, raw = model.train(**source, total_examples=model.corpus_count, total_words=model.corpus_total_words,
                               epochs=args.epochs)
    train_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    model.wv.save_word2vec_format(args.vectors, binary=False)
    save_seconds = time.perf_counter() - t0
    report = {"tool": "gensim", "version": gensim.__version__, "mode": args.mode,
              "params": {"sg": model.sg, "hs": model.hs, "negative": model.negative, "cbow_mean": model.cbow_mean,
                         "alpha": model.alpha, "min_alpha": model.min_alpha},
              "import_seconds": import_seconds, "read_seconds": read_seconds, "train_seconds": train_seconds,
              "total_train_time": float(model.total_train_time), "save_seconds": save_seconds,
              "vocab_size": len(model.wv), "corpus_tokens": int(model.corpus_total_words),
              "sentences": int(model.corpus_count), "effective_words": int(trained), "raw_words": int(raw),
              "threads": args.threads}
    with open(args.report, "w") as handle:
        json.dump(report, handle, indent=2)


if __name__ == "__main__":
    main()
