"""Train Spark MLlib's Word2Vec once and write its vectors in word2vec's text format, with its timings as JSON
(run by ``python -m bench distributed``, one process per run).

    python bench/runners/spark_runner.py CORPUS VECTORS REPORT --partitions P [--master local[2]] [--driver-memory 6g]
                                 [--dim 100] [--window 5] [--min-count 5] [--epochs 5] [--lr 0.025] [--seed 1]

MLlib trains skip-gram with hierarchical softmax only, with no subsampling of frequent words. With
``numPartitions`` P it trains a copy of the model on each partition of the data and combines the copies
once per iteration (an epoch). Lines are split at ASCII whitespace as fastemb reads them and kept whole
up to 10,000 tokens (fastemb's sentence length; MLlib's default cuts at 1,000). Training time is the
``fit()`` call, which also builds the vocabulary.
"""
from __future__ import annotations

import argparse
import json
import time


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus")
    parser.add_argument("vectors")
    parser.add_argument("report")
    parser.add_argument("--partitions", type=int, default=1)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="6g")
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--lr", type=float, default=0.025)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    from pyspark.ml.feature import Word2Vec
    from pyspark.sql import SparkSession
    from pyspark.sql import functions

    spark = (SparkSession.builder.master(args.master).appName("fastemb-bench")
             .config("spark.driver.memory", args.driver_memory).config("spark.ui.enabled", "false")
             .config("spark.driver.maxResultSize", "0").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    start_seconds = time.perf_counter() - started
    lines = spark.read.text(args.corpus)
    words = lines.select(functions.split(functions.trim(lines.value), r"[ \t\r\x0b\x0c\x00]+").alias("words"))
    words = words.where(functions.size("words") > 0).where(functions.col("words")[0] != "").cache()
    sentences = words.count()
    read_seconds = time.perf_counter() - started - start_seconds
    model_spec = Word2Vec(vectorSize=args.dim, windowSize=args.window, minCount=args.min_count, maxIter=args.epochs,
                          numPartitions=args.partitions, stepSize=args.lr, seed=args.seed, maxSentenceLength=10_000,
                          inputCol="words", outputCol="vector")
    fitting = time.perf_counter()
    model = model_spec.fit(words)
    train_seconds = time.perf_counter() - fitting
    saving = time.perf_counter()
    rows = model.getVectors().collect()
    with open(args.vectors, "w", encoding="utf-8") as out:
        out.write(f"{len(rows)} {args.dim}\n")
        for row in rows:
            out.write(row.word + " " + " ".join(f"{value:.6f}" for value in row.vector.toArray()) + "\n")
    save_seconds = time.perf_counter() - saving
    report = {"start_seconds": start_seconds, "read_seconds": read_seconds, "train_seconds": train_seconds,
              "save_seconds": save_seconds, "sentences": sentences, "vocab_size": len(rows),
              "partitions": args.partitions, "master": args.master, "spark": spark.version}
    with open(args.report, "w") as handle:
        json.dump(report, handle, indent=1)
    spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
