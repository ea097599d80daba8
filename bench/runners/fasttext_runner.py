"""Train with the ``fasttext`` Python package once and report as JSON (run by ``python -m bench``).

    python bench/runners/fasttext_runner.py skipgram|cbow CORPUS VECTORS REPORT [--loss ns|hs] --dim ... (no subwords)
    python bench/runners/fasttext_runner.py supervised TRAIN TEST MODEL REPORT [--loss softmax|ns|hs|ova] --dim ...

The library prints fastText's usual progress on stderr (``verbose=2``); the
harness times the phases from it, exactly as for the ``fasttext`` CLI. This
script marks the moment it calls the library with a ``BENCH call`` line.
The skip-gram and CBOW vectors are written with fastemb's word2vec text writer
(``fastemb.models.vectors.save_vectors``, %.9g) from the input matrix, whose first
rows are the words in fastText's dictionary order (most frequent first).
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

started = time.perf_counter()
import fasttext  # noqa: E402

import_seconds = time.perf_counter() - started


def _version() -> str:
    from importlib.metadata import version
    return version("fasttext")


def mark(what: str) -> None:
    sys.stderr.write(f"\nBENCH {what}\n")
    sys.stderr.flush()


def unsupervised(args) -> dict:
    mark("call")
    t0 = time.perf_counter()
    model = fasttext.train_unsupervised(args.corpus, model=args.objective, dim=args.dim, ws=args.window,
                                        neg=args.negative, t=args.sample, minCount=args.min_count,
                                        epoch=args.epochs, thread=args.threads, lr=args.lr, minn=args.minn, maxn=args.maxn,
                                        bucket=args.bucket,
                                        wordNgrams=1, loss=args.loss, verbose=2)
    # fasttext 0.9.3's train_unsupervised rejects ``seed`` (only train_supervised takes it): seed 0 here.
    call_seconds = time.perf_counter() - t0
    mark("save")
    t0 = time.perf_counter()
    words = model.get_words()
    # composed vectors (the word's row and its n-grams') for the subword model, as fastText's .vec
    matrix = (np.array([model.get_word_vector(word) for word in words], dtype=np.float32) if args.maxn
              else model.get_input_matrix()[:len(words)])
    try:
        from fastemb.models.vectors import save_vectors
        save_vectors(args.vectors, words, matrix)
    except ImportError:  # fastemb not importable: a plain writer
        with open(args.vectors, "w", encoding="utf-8") as handle:
            handle.write(f"{len(words)} {matrix.shape[1]}\n")
            for word, row in zip(words, matrix):
                handle.write(word + " " + " ".join(f"{x:.6g}" for x in row) + "\n")
    save_seconds = time.perf_counter() - t0
    return {"call_seconds": call_seconds, "save_seconds": save_seconds, "vocab_size": len(words)}


def supervised(args) -> dict:
    mark("call")
    t0 = time.perf_counter()
    model = fasttext.train_supervised(args.train, dim=args.dim, lr=args.lr, epoch=args.epochs,
                                      minCount=args.min_count, wordNgrams=args.word_ngrams, bucket=args.bucket,
                                      thread=args.threads, seed=args.seed, loss=args.loss, verbose=2)
    call_seconds = time.perf_counter() - t0
    mark("save")
    t0 = time.perf_counter()
    model.save_model(args.model)
    save_seconds = time.perf_counter() - t0
    mark("test")
    t0 = time.perf_counter()
    examples, precision, recall = model.test(args.test, k=1)
    test_seconds = time.perf_counter() - t0
    return {"call_seconds": call_seconds, "save_seconds": save_seconds, "test_seconds": test_seconds,
            "vocab_size": len(model.get_words()), "labels": len(model.get_labels()),
            "test_examples": int(examples), "precision_at_1": float(precision), "recall_at_1": float(recall)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="objective", required=True)
    unsup = []
    for objective in ("skipgram", "cbow"):
        p = sub.add_parser(objective)
        p.add_argument("corpus")
        p.add_argument("vectors")
        p.add_argument("report")
        p.add_argument("--loss", choices=["ns", "hs"], default="ns")
        p.add_argument("--dim", type=int, default=100)
        p.add_argument("--window", type=int, default=5)
        p.add_argument("--negative", type=int, default=5, help="ignored with --loss hs")
        p.add_argument("--sample", type=float, default=1e-4)
        p.add_argument("--min-count", type=int, default=5)
        p.add_argument("--epochs", type=int, default=5)
        p.add_argument("--lr", type=float, default=0.025)
        p.add_argument("--minn", type=int, default=0)
        p.add_argument("--maxn", type=int, default=0)
        p.add_argument("--bucket", type=int, default=2_000_000)
        unsup.append(p)
    sup = sub.add_parser("supervised")
    sup.add_argument("train")
    sup.add_argument("test")
    sup.add_argument("model")
    sup.add_argument("report")
    sup.add_argument("--dim", type=int, default=10)
    sup.add_argument("--lr", type=float, default=0.1)
    sup.add_argument("--epochs", type=int, default=5)
    sup.add_argument("--min-count", type=int, default=1)
    sup.add_argument("--word-ngrams", type=int, default=1)
    sup.add_argument("--bucket", type=int, default=2_000_000)
    sup.add_argument("--loss", choices=["softmax", "ns", "hs", "ova"], default="softmax")
    for p in (*unsup, sup):
        p.add_argument("--threads", type=int, default=2)
        p.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    report = supervised(args) if args.objective == "supervised" else unsupervised(args)
    report.update({"tool": "fasttext", "version": _version(), "import_seconds": import_seconds,
                   "objective": args.objective, "loss": args.loss, "threads": args.threads})
    with open(args.report, "w") as handle:
        json.dump(report, handle, indent=2)


if __name__ == "__main__":
    main()
