"""The commands that measure vectors: evaluate (analogies, similarity) and compare (two spaces)."""
from __future__ import annotations

import json

import click

from ..base.errors import FastembError
from .group import main


@main.command()
@click.argument("vectors_path", metavar="VECTORS")
@click.option("--analogies", "analogy_paths", multiple=True, metavar="FILE",
              help="Analogy questions in questions-words.txt layout (repeatable).")
@click.option("--similarity", "similarity_paths", multiple=True, metavar="FILE",
              help="Word pairs with human scores, 'word1 word2 score' (repeatable): WordSim353, MEN, SimLex...")
@click.option("--restrict-vocab", type=click.IntRange(min=1), default=None,
              help="Only the N most frequent words are known  [default: 30,000 for analogies, as word2vec's "
                   "compute-accuracy; 300,000 for word pairs, as gensim]")
@click.option("--method", type=click.Choice(["3cosadd", "3cosmul"], case_sensitive=False), default="3cosadd",
              show_default=True, help="Analogy rule: b - a + c, or Levy & Goldberg's multiplicative one.")
@click.option("--case-sensitive", is_flag=True, help="Match words exactly (default: ignore case, as gensim).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def evaluate(vectors_path, analogy_paths, similarity_paths, restrict_vocab, method, case_sensitive, as_json):
    """Analogy accuracy and word-pair correlations of VECTORS, counted as gensim's evaluators count."""
    from ..evaluation.evaluate import (ANALOGY_RESTRICT_VOCAB, SIMILARITY_RESTRICT_VOCAB, evaluate_analogies,
                           evaluate_similarity, format_analogies, format_similarity)
    from ..base.fileio import check_readable
    from ..models.vectors import load_vectors

    if not analogy_paths and not similarity_paths:
        raise click.UsageError("give at least one --analogies or --similarity file")
    for path in (vectors_path, *analogy_paths, *similarity_paths):
        check_readable(path)
    vectors = load_vectors(vectors_path)
    case_insensitive = not case_sensitive
    analogies = [evaluate_analogies(vectors, path, restrict_vocab or ANALOGY_RESTRICT_VOCAB, method.lower(),
                                    case_insensitive) for path in analogy_paths]
    similarities = [evaluate_similarity(vectors, path, restrict_vocab or SIMILARITY_RESTRICT_VOCAB,
                                        case_insensitive) for path in similarity_paths]
    if as_json:
        click.echo(json.dumps({"vectors": vectors_path, "words": len(vectors), "dim": vectors.dim,
                               "analogies": [r.to_dict() for r in analogies],
                               "similarity": [r.to_dict() for r in similarities]}, indent=2))
        return
    click.echo(f"{vectors_path}: {len(vectors):,} words x {vectors.dim} dims")
    for result in analogies:
        click.echo("\n" + format_analogies(result))
    if similarities:
        click.echo("\n" + format_similarity(similarities))


@main.command()
@click.argument("first_path", metavar="FIRST")
@click.argument("second_path", metavar="SECOND")
@click.option("--words", "word_lists", multiple=True, metavar="W1,W2,...",
              help="Words whose neighbours to show side by side (comma-separated, repeatable).")
@click.option("-k", "--topn", "k", type=click.IntRange(min=1), default=10, show_default=True,
              help="Neighbours per word for the overlap and the side-by-side lists.")
@click.option("--max-words", type=click.IntRange(min=2), default=20_000, show_default=True,
              help="Compare only this many shared words, the most frequent in both.")
@click.option("--top", type=click.IntRange(min=0), default=10, show_default=True,
              help="How many most and least changed words to list.")
@click.option("--plot", "plot_path", default=None, metavar="FILE",
              help="Also draw a 2-D PCA map of the words in each space (.png/.svg/.pdf; needs matplotlib).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def compare(first_path, second_path, word_lists, k, max_words, top, plot_path, as_json):
    """How the neighbourhoods of words differ between two vector files FIRST and SECOND."""
    from ..evaluation.compare import compare_vectors, format_comparison, plot_comparison, require_matplotlib
    from ..base.fileio import check_paths, check_readable, check_writable
    from ..models.vectors import load_vectors

    words = [w.strip() for spec in word_lists for w in spec.split(",") if w.strip()]
    check_readable(first_path)
    check_readable(second_path)
    if plot_path:
        check_paths({"FIRST": first_path, "SECOND": second_path}, {"--plot": plot_path})
        require_matplotlib()
        check_writable(plot_path)
    first, second = load_vectors(first_path), load_vectors(second_path)
    if plot_path and words and sum(w in first and w in second for w in set(words)) < 3:
        raise FastembError(f"{plot_path}: a map needs at least 3 of the --words in both vocabularies")
    result = compare_vectors(first, second, k=k, max_words=max_words, words=words, top=top,
                             names=(first_path, second_path))
    if plot_path:
        # Without --words, the map shows the words whose neighbourhoods changed most and least.
        shown = [c.word for c in result.chosen] or [w for w, _ in result.most_changed + result.least_changed]
        plot_comparison(first, second, shown, plot_path, names=(first_path, second_path))
    if as_json:
        report = result.to_dict()
        report["plot"] = plot_path
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(format_comparison(result))
    if plot_path:
        click.echo(f"\nSaved {plot_path}")
