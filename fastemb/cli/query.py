"""The commands that ask a trained model: neighbors, vectors, predict, test, export."""
from __future__ import annotations

import os
import sys

import click

from ..base.errors import FastembError
from .group import main


@main.command()
@click.argument("vectors_path", metavar="VECTORS")
@click.argument("words", nargs=-1)
@click.option("-k", "--topn", default=10, show_default=True, help="Neighbours per word.")
@click.option("--analogy", "analogies", nargs=3, multiple=True, metavar="A B C",
              help="Also solve A is to B as C is to ?: the words nearest B - A + C (3CosAdd; repeatable).")
def neighbors(vectors_path, words, topn, analogies):
    """Nearest neighbours (cosine) of each WORD in a word2vec text or binary file, a fastemb model file or a
    fastText .bin model (in a subword model a word outside the vocabulary has a vector made of its character
    n-grams)."""
    if not words and not analogies:
        raise click.UsageError("give at least one WORD or --analogy A B C")
    vectors, vector_of = _word_vectors(vectors_path)
    for word in words:
        if word in vectors:
            found = vectors.most_similar(word, topn=topn)
        elif (vector := vector_of(word)) is not None:
            found = vectors.nearest(vector, topn=topn, exclude=[word])
        else:
            click.echo(f"{word}: not in the vocabulary of {vectors_path}")
            continue
        click.echo(f"{word}: " + ", ".join(f"{w} {score:.3f}" for w, score in found))
    for a, b, c in analogies:
        unknown = [w for w in dict.fromkeys((a, b, c)) if w not in vectors]
        if unknown:
            click.echo(f"{a} : {b} :: {c} : ?  {', '.join(unknown)} not in the vocabulary of {vectors_path}")
        else:
            found = vectors.analogy(a, b, c, topn=topn)
            click.echo(f"{a} : {b} :: {c} : ?  " + ", ".join(f"{w} {score:.3f}" for w, score in found))


def _word_vectors(path: str):
    """(the vocabulary's vectors, word -> its vector or None) of a fastText .bin, a fastemb model file or a
    word2vec file; a subword model gives a word outside its vocabulary a vector (None if it has no n-gram)."""
    from ..api import load_model, model_magic
    from ..formats.fasttext import is_fasttext_file, read_fasttext
    from ..models.vectors import Vectors, load_vectors
    if is_fasttext_file(path):
        model = read_fasttext(path)
        return Vectors.from_fasttext(model), lambda word: model.word_vector(word) if model.subword_rows(word).size else None
    if model_magic(path) is not None:
        model = load_model(path)

        def vector_of(word):
            try:
                vector = model.get_word_vector(word)
            except KeyError:
                return None
            return vector if vector.any() else None
        return model.vectors, vector_of
    table = load_vectors(path)
    return table, lambda word: table[word] if word in table else None


@main.command("vectors")
@click.argument("model_path", metavar="MODEL")
@click.argument("words", nargs=-1, required=True)
def print_vectors(model_path, words):
    """Print `word v1 ... vn` for each WORD ('-': the words of stdin), as `fasttext print-word-vectors`.

    MODEL is a fastText .bin model or a fastemb model file (with subwords every word has a vector: one
    outside the vocabulary is the mean of its character n-grams, zeros if it has none), or a word2vec text
    or binary file (zeros for a word it lacks).
    """
    import numpy as np

    from ..formats.fasttext import is_fasttext_file, read_fasttext

    if is_fasttext_file(model_path):
        vectors_of = read_fasttext(model_path).word_vectors
    else:
        table, vector_of = _word_vectors(model_path)

        def vectors_of(batch):
            return np.array([vector if (vector := vector_of(w)) is not None else np.zeros(table.dim, np.float32)
                             for w in batch], dtype=np.float32).reshape(len(batch), table.dim)
    interactive = words == ("-",) and sys.stdin.isatty()
    out = sys.stdout.buffer  # bytes: a word read from stdin may not be valid UTF-8, and is written back as it came
    for batch in _word_batches(words, interactive):  # a closed pipe or a full disk ends in the group's guard
        for word, vector in zip(batch, vectors_of(batch)):
            # fastText's layout: setprecision(5) and a space after every value
            line = word + " " + "".join(f"{v:.5g} " for v in vector.tolist()) + "\n"
            out.write(line.encode("utf-8", "surrogateescape"))
        if interactive:
            out.flush()
    out.flush()


def _word_batches(words: tuple, interactive: bool, size: int = 4096):
    """The WORDs, or for '-' the whitespace-separated words of stdin (split at ASCII whitespace, as fastText),
    a line at a time from a terminal; a word keeps its first MAX_TOKEN_BYTES bytes, as every reader's token."""
    from ..base.limits import MAX_TOKEN_BYTES
    if words != ("-",):
        yield list(words)
        return
    batch = []
    for line in sys.stdin.buffer:
        batch.extend(w[:MAX_TOKEN_BYTES].decode("utf-8", "surrogateescape") for w in line.split())
        if len(batch) >= size or interactive:
            yield batch
            batch = []
    if batch:
        yield batch


@main.command("test")
@click.argument("model_path", metavar="MODEL")
@click.argument("input_path", metavar="INPUT")
@click.option("-k", default=1, show_default=True, help="Labels predicted per line (-1: all).")
@click.option("--threshold", default=0.0, show_default=True, help="Only predict labels with at least this probability.")
@click.option("--per-label", is_flag=True, help="Also print precision, recall and F1 of every label.")
def test_model(model_path, input_path, k, threshold, per_label):
    """Precision and recall at k of MODEL (fastemb's or a fastText .bin) on labelled INPUT ('-' = stdin), in
    fastText's layout."""
    from ..models.metrics import format_test

    model = _load_classifier(model_path)
    result = model.evaluate(input_path, k=k, threshold=threshold)
    if result.examples == 0:
        raise FastembError(f"{input_path}: no line has a label that {model_path} knows (labels start with "
                           f"{model.config.label_prefix!r}) and a word or end of line to predict from: "
                           "nothing to score")
    if result.unknown_label_lines:
        click.echo(f"Warning: {result.unknown_label_lines:,} lines of {input_path} have labels never seen in "
                   "training; those labels were ignored (a line left with no known label is not scored)", err=True)
    click.echo(format_test(result, per_label))


def _load_classifier(path: str):
    """fastemb's classifier, or fastText's (a .bin, recognised by its magic number)."""
    from ..formats.fasttext import is_fasttext_file, read_fasttext
    from ..models.supervised import SupervisedModel, load_model
    return SupervisedModel.from_fasttext(read_fasttext(path)) if is_fasttext_file(path) else load_model(path)


@main.command()
@click.argument("model_path", metavar="MODEL")
@click.argument("input_path", metavar="INPUT")
@click.option("-k", default=1, show_default=True, help="Labels predicted per line (-1: all).")
@click.option("--probabilities", is_flag=True, help="Print each label's probability after it.")
@click.option("--threshold", default=0.0, show_default=True, help="Only print labels with at least this probability.")
def predict(model_path, input_path, k, probabilities, threshold):
    """Top-k labels for every line of INPUT ('-' = stdin) by MODEL (fastemb's or a fastText .bin): one output
    line per input line."""
    from ..models.metrics import format_prediction

    model = _load_classifier(model_path)
    out = sys.stdout  # a closed pipe (`| head`) or a full disk ends in the group's guard
    for labels, probs in model.predict_file(input_path, k=k, threshold=threshold):
        out.write(format_prediction(labels, probs, probabilities) + "\n")
    out.flush()


@main.command()
@click.argument("model_path", metavar="MODEL")
@click.argument("output", metavar="OUT")
def export(model_path, output):
    """Write MODEL (a fastemb model file: skip-gram, CBOW, subword or classifier) as fastText's binary model
    OUT (.bin), which fastText's load_model reads with the same word vectors and predictions."""
    from ..api import load_model
    from ..formats.fasttext import from_supervised, from_word2vec, write_fasttext
    from ..base.fileio import check_paths, check_readable
    from ..models.supervised import SupervisedModel

    check_readable(model_path)
    check_paths({"MODEL": model_path}, {"OUT": output})
    model = load_model(model_path)
    write_fasttext(output, from_supervised(model) if isinstance(model, SupervisedModel) else from_word2vec(model))
    click.echo(f"Saved {output} ({os.path.getsize(output) / 2**20:,.1f} MB)")


@main.command()
@click.argument("model_path", metavar="MODEL")
@click.option("-o", "--output", required=True, help="The quantized model (.ftz, fastText's format).")
@click.option("--dsub", default=2, show_default=True, help="Dimensions per subvector (one byte each).")
@click.option("--qnorm", is_flag=True, help="Quantize the rows' norms apart (rows scaled to unit length).")
@click.option("--qout", is_flag=True, help="Quantize the output (label) rows too.")
def quantize(model_path, output, dsub, qnorm, qout):
    """Product-quantize the classifier MODEL (a fastemb model or a fastText .bin) into OUT.ftz, a file
    fastText's load_model reads and predicts from as fastemb does (fastText's quantize, without -cutoff)."""
    from ..base.fileio import check_paths, check_readable
    from ..base.limits import check_integer
    from ..fasttext import load_model

    check_readable(model_path)
    check_integer("--dsub", dsub, 1, 10_000)
    check_paths({"MODEL": model_path}, {"-o/--output": output})
    model = load_model(model_path)
    model.quantize(dsub=dsub, qnorm=qnorm, qout=qout)
    model.save_model(output)
    click.echo(f"Saved {output} ({os.path.getsize(output) / 2**20:,.1f} MB, from "
               f"{os.path.getsize(model_path) / 2**20:,.1f} MB)")
