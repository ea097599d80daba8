"""The ``fastemb`` command: a thin Click layer over the trainers and the vectors API.

Nothing heavy is imported at module level, so ``fastemb --help`` stays instant;
numba loads only when a command trains.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from . import __version__
from .errors import FastembError

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
DEFAULT_CORPUS = DATA_DIR / "corpus.txt.gz"


class _Group(click.Group):
    """Turns FastembError into one ``Error: ...`` line and Ctrl-C into exit 130, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except FastembError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("\nInterrupted: no output was written; any existing output file is unchanged.", err=True)
            sys.exit(130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fastemb")
def main():
    """Train embedding layers: word2vec skip-gram or a fastText-style classifier, on one sparse core."""


def _default_input(input_path: str | None, what: Path) -> str:
    if input_path is not None:
        return input_path
    if not what.exists():
        raise FastembError(f"no INPUT given and the embedded default {what} is missing "
                           "(run `python data/generate.py` in a source checkout)")
    click.echo(f"No INPUT given: training on the embedded default corpus {what}", err=True)
    return str(what)


def _write_report(path: str | None, report: dict) -> None:
    if not path:
        return
    from .fileio import atomic_output
    with atomic_output(path, "w") as handle:
        json.dump(report, handle, indent=2, default=float)
        handle.write("\n")


@main.command()
@click.argument("input_path", metavar="[INPUT]", required=False)
@click.option("-o", "--output", required=True, help="Vectors file to write (word2vec text format).")
@click.option("--dim", default=100, show_default=True, help="Vector dimension.")
@click.option("--window", default=5, show_default=True, help="Maximum context window (reduced at random per word).")
@click.option("--negative", default=5, show_default=True, help="Noise words per positive example.")
@click.option("--sample", default=1e-3, show_default=True, help="Subsampling threshold for frequent words (0: off).")
@click.option("--min-count", default=5, show_default=True, help="Ignore words rarer than this.")
@click.option("--max-vocab", type=int, default=None, help="Keep at most this many most frequent words.")
@click.option("--epochs", default=5, show_default=True, help="Passes over the corpus.")
@click.option("--lr", default=0.025, show_default=True, help="Initial learning rate.")
@click.option("--min-lr", default=0.0001, show_default=True, help="Final learning rate (linear decay).")
@click.option("--threads", type=int, default=None, help="Worker threads [default: all cores].")
@click.option("--seed", default=1, show_default=True, help="Random seed (--threads 1 is bit-reproducible).")
@click.option("--kernel", type=click.Choice(["batched", "pair"]), default="batched", show_default=True,
              help="batched: a window's contexts share negatives (fast); pair: word2vec's per-pair updates.")
@click.option("--binary", is_flag=True, help="Write word2vec binary format instead of text.")
@click.option("--report", "report_path", default=None, help="Also write the run's figures as JSON here.")
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
def skipgram(input_path, output, report_path, quiet, binary, threads, **options):
    """Train skip-gram (word2vec) vectors on INPUT (one sentence per line; .gz/.bz2/.xz ok)."""
    from .fileio import check_readable, check_writable
    from .progress import Progress
    from .sgns import SkipGramConfig, train_skipgram

    input_path = _default_input(input_path, DEFAULT_CORPUS)
    config = SkipGramConfig(threads=threads or os.cpu_count() or 1, **options)
    config.validate()
    check_readable(input_path)
    check_writable(output)
    if report_path:
        check_writable(report_path)
    progress = Progress(1, config.threads, quiet=quiet)
    model = train_skipgram(input_path, config, progress=progress)
    model.save(output, binary=binary)
    report = model.report
    report["output"] = output
    _write_report(report_path, report)
    click.echo(f"Trained {report['words']:,} words ({report['corpus_tokens']:,} tokens x {config.epochs} epochs), "
               f"vocabulary {report['vocab_size']:,}, dim {config.dim}, {config.threads} threads")
    click.echo(f"read {report['read_seconds']:.2f} s, compile {report['compile_seconds']:.2f} s, "
               f"train {report['train_seconds']:.2f} s, save {report['save_seconds']:.2f} s; "
               f"{report['words_per_sec']:,.0f} words/sec ({report['words_per_sec'] / config.threads:,.0f} per thread); "
               f"final loss {report['loss']:.4f}")
    click.echo(f"Saved {output}")


@main.command()
@click.argument("vectors_path", metavar="VECTORS")
@click.argument("words", nargs=-1, required=True)
@click.option("-k", "--topn", default=10, show_default=True, help="Neighbours per word.")
def neighbors(vectors_path, words, topn):
    """Nearest neighbours (cosine) of each WORD in a word2vec text or binary file."""
    from .vectors import load_vectors

    vectors = load_vectors(vectors_path)
    for word in words:
        if word not in vectors:
            click.echo(f"{word}: not in the vocabulary of {vectors_path}")
            continue
        found = vectors.most_similar(word, topn=topn)
        click.echo(f"{word}: " + ", ".join(f"{w} {score:.3f}" for w, score in found))


@main.command()
def warmup():
    """Compile the Numba kernels now (they are cached), so the first training run starts at once."""
    from .sgns import warm_up

    click.echo(f"Kernels ready in {warm_up():.2f} s")


if __name__ == "__main__":
    main()
