"""The ``fastemb`` command: a thin Click layer over the trainers and the vectors API.

Nothing heavy is imported at module level, so ``fastemb --help`` stays instant;
numba loads only when a command trains.
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
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
        except KeyboardInterrupt as exc:
            click.echo("\nInterrupted: no output was written; any existing output file is unchanged.", err=True)
            sys.exit(143 if isinstance(exc, _Terminated) else 130)
        except Exception as exc:  # noqa: BLE001 - the trainer's own stop, carrying where it stopped
            from .sgns import Interrupted
            if not isinstance(exc, Interrupted):
                raise
            click.echo(f"\n{exc}", err=True)
            sys.exit(143 if isinstance(exc.signal, _Terminated) else 130)


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
@click.option("--max-words", type=int, default=10_000_000, show_default=True,
              help="Distinct words counted while reading; past this, the rarest so far are pruned "
                   "(word2vec's ReduceVocab; about 70 bytes a word).")
@click.option("--epochs", default=5, show_default=True, help="Passes over the corpus.")
@click.option("--lr", default=0.025, show_default=True, help="Initial learning rate.")
@click.option("--min-lr", default=0.0001, show_default=True, help="Final learning rate (linear decay).")
@click.option("--threads", type=int, default=None, help="Worker threads [default: all cores].")
@click.option("--seed", default=1, show_default=True, help="Random seed (--threads 1 is bit-reproducible).")
@click.option("--kernel", type=click.Choice(["batched", "pair"]), default="batched", show_default=True,
              help="batched: a window's contexts share negatives (fast); pair: word2vec's per-pair updates.")
@click.option("--hot-rows", type=click.IntRange(min=0), default=None,
              help="With 2+ threads: the most frequent words whose rows each thread trains a private copy of, "
                   "merged every chunk [default: 1024, at most a quarter of the model; 0: off].")
@click.option("--binary", is_flag=True, help="Write word2vec binary format instead of text.")
@click.option("--init", default=None, help="Continue training from these vectors (word2vec file) or a checkpoint.")
@click.option("--on-disk", is_flag=True, help="Keep the encoded corpus in a file beside the output (bounded memory).")
@click.option("--max-memory", default=64.0, show_default=True,
              help="MB of token ids kept in memory; a larger corpus is trained from a file beside the output.")
@click.option("--checkpoint", default=None, help="Save the full training state here, periodically and on Ctrl-C.")
@click.option("--checkpoint-every", default=600.0, show_default=True, help="Seconds between checkpoints.")
@click.option("--save-on-interrupt", is_flag=True, help="On Ctrl-C/SIGTERM also write the vectors trained so far.")
@click.option("--report", "report_path", default=None, help="Also write the run's figures as JSON here.")
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
def skipgram(input_path, output, report_path, quiet, binary, threads, checkpoint, checkpoint_every,
             save_on_interrupt, **options):
    """Train skip-gram (word2vec) vectors on INPUT (one sentence per line; .gz/.bz2/.xz ok)."""
    from .fileio import check_readable, check_writable
    from .progress import Progress
    from .sgns import SkipGramConfig, prepare_skipgram, run_to_file

    input_path = _default_input(input_path, DEFAULT_CORPUS)
    config = SkipGramConfig(threads=(os.cpu_count() or 1) if threads is None else threads, **options)
    config.validate()
    if checkpoint_every <= 0:
        raise FastembError(f"--checkpoint-every must be > 0 seconds, got {checkpoint_every}")
    check_readable(input_path)
    for path in (output, report_path, checkpoint):
        if path:
            check_writable(path)
    progress = Progress(1, config.threads, quiet=quiet)
    _return_freed_memory()
    run_info = {"input": os.path.abspath(input_path), "output": os.path.abspath(output), "binary": binary,
                "report": os.path.abspath(report_path) if report_path else None,
                "save_on_interrupt": save_on_interrupt}
    with _stop_on_sigterm():  # reading a big corpus takes a while too: SIGTERM stops cleanly
        trainer, report = prepare_skipgram(input_path, config, progress, workdir=_workdir(output))
        model = run_to_file(trainer, report, output, binary, checkpoint, checkpoint_every, save_on_interrupt,
                            progress, run_info)
    _finish_skipgram(model, output, report_path)


@main.command()
@click.argument("checkpoint")
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
def resume(checkpoint, quiet):
    """Continue an interrupted `fastemb skipgram` run from its CHECKPOINT and write its output."""
    from .progress import Progress
    from .sgns import resume_skipgram

    progress = Progress(1, 1, quiet=quiet)
    _return_freed_memory()
    with _stop_on_sigterm():
        model, run_info = resume_skipgram(checkpoint, progress)
    _finish_skipgram(model, run_info["output"], run_info.get("report"))


def _return_freed_memory() -> None:
    """Fix glibc's mmap threshold at 1 MB so freed read buffers go back to the system.

    Otherwise the threshold grows with each large free and later buffers stay in the
    heap, which keeps peak memory high for no benefit (and bounded memory is a promise).
    """
    import ctypes
    import ctypes.util
    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt(-3, 1 << 20)  # M_MMAP_THRESHOLD


def _workdir(output: str) -> str:
    """Scratch files (an on-disk corpus) go beside the output, on the disk the user chose."""
    return os.path.dirname(os.path.abspath(output))


def _echo_timings(report: dict, threads: int) -> None:
    """The summary line every training command prints: phases apart, then speed and loss."""
    click.echo(f"read {report['read_seconds']:.2f} s, compile {report['compile_seconds']:.2f} s, "
               f"train {report['train_seconds']:.2f} s, save {report['save_seconds']:.2f} s; "
               f"{report['words_per_sec']:,.0f} words/sec ({report['words_per_sec'] / threads:,.0f} per thread); "
               f"final loss {report['loss']:.4f}")


def _finish_skipgram(model, output, report_path):
    report, config = model.report, model.config
    report["output"] = output
    _write_report(report_path, report)
    click.echo(f"Trained {report['words']:,} words ({report['corpus_tokens']:,} tokens x {config.epochs} epochs), "
               f"vocabulary {report['vocab_size']:,}, dim {config.dim}, {config.threads} threads")
    _echo_timings(report, config.threads)
    click.echo(f"Saved {output}")


class _Terminated(KeyboardInterrupt):
    """SIGTERM, delivered like Ctrl-C so training stops cleanly at a chunk boundary."""


@contextlib.contextmanager
def _stop_on_sigterm():
    def handler(signum, frame):
        raise _Terminated()
    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@main.command()
@click.argument("vectors_path", metavar="VECTORS")
@click.argument("words", nargs=-1)
@click.option("-k", "--topn", default=10, show_default=True, help="Neighbours per word.")
@click.option("--analogy", "analogies", nargs=3, multiple=True, metavar="A B C",
              help="Also solve A is to B as C is to ?: the words nearest B - A + C (3CosAdd; repeatable).")
def neighbors(vectors_path, words, topn, analogies):
    """Nearest neighbours (cosine) of each WORD in a word2vec text or binary file."""
    from .vectors import load_vectors

    if not words and not analogies:
        raise click.UsageError("give at least one WORD or --analogy A B C")
    vectors = load_vectors(vectors_path)
    for word in words:
        if word not in vectors:
            click.echo(f"{word}: not in the vocabulary of {vectors_path}")
            continue
        found = vectors.most_similar(word, topn=topn)
        click.echo(f"{word}: " + ", ".join(f"{w} {score:.3f}" for w, score in found))
    for a, b, c in analogies:
        unknown = [w for w in dict.fromkeys((a, b, c)) if w not in vectors]
        if unknown:
            click.echo(f"{a} : {b} :: {c} : ?  {', '.join(unknown)} not in the vocabulary of {vectors_path}")
        else:
            found = vectors.analogy(a, b, c, topn=topn)
            click.echo(f"{a} : {b} :: {c} : ?  " + ", ".join(f"{w} {score:.3f}" for w, score in found))


@main.command()
@click.argument("input_path", metavar="[INPUT]", required=False)
@click.option("--words", "budget", default=2_000_000, show_default=True, help="Tokens of INPUT to train on per run.")
@click.option("--threads", "max_threads", type=int, default=None, help="Try 1..N threads [default: all cores].")
@click.option("--kernel", type=click.Choice(["batched", "pair"]), default="batched", show_default=True)
@click.option("--repeat", default=2, show_default=True, help="Interleaved runs per thread count (median kept).")
@click.option("--dim", default=100, show_default=True)
@click.option("--window", default=5, show_default=True)
@click.option("--negative", default=5, show_default=True)
@click.option("--sample", default=1e-4, show_default=True)
@click.option("--min-count", default=5, show_default=True)
def bench(input_path, budget, max_threads, kernel, repeat, **options):
    """How fast is this machine for my data? Skip-gram words/sec/thread with 1..N threads."""
    from .sgns import SkipGramConfig, measure_throughput

    input_path = _default_input(input_path, DEFAULT_CORPUS)
    max_threads = (os.cpu_count() or 1) if max_threads is None else max_threads
    if budget <= 0 or max_threads <= 0 or repeat <= 0:
        raise FastembError("--words, --threads and --repeat must be positive")
    config = SkipGramConfig(kernel=kernel, **options)
    config.validate()
    rows = measure_throughput(input_path, config, list(range(1, max_threads + 1)), budget, repeat,
                              say=lambda message: click.echo(message, err=True))
    click.echo(f"{'threads':>7}  {'words/sec':>12}  {'per thread':>12}  {'speed-up':>8}  (min-max words/sec)")
    for row in rows:
        click.echo(f"{row['threads']:>7}  {row['words_per_sec']:>12,.0f}  {row['per_thread']:>12,.0f}  "
                   f"{row['speedup']:>7.2f}x  ({row['min']:,.0f}-{row['max']:,.0f})")


@main.command()
def warmup():
    """Compile the Numba kernels now (they are cached), so the first training run starts at once."""
    from .sgns import warm_up
    from .supervised import warm_up as warm_up_supervised

    skipgram_seconds, supervised_seconds = warm_up(), warm_up_supervised()
    click.echo(f"Kernels ready in {skipgram_seconds + supervised_seconds:.2f} s "
               f"(skip-gram {skipgram_seconds:.2f} s, supervised {supervised_seconds:.2f} s)")


DEFAULT_LABELLED = DATA_DIR / "labelled-train.txt"


@main.command()
@click.argument("input_path", metavar="[INPUT]", required=False)
@click.option("-o", "--output", required=True, help="Model file to write (an .npz archive, at exactly this path).")
@click.option("--vectors", "vectors_path", default=None, help="Also write the learned word vectors (word2vec text).")
@click.option("--dim", default=100, show_default=True, help="Vector dimension.")
@click.option("--lr", default=0.1, show_default=True, help="Initial learning rate (decays linearly to 0).")
@click.option("--epochs", default=5, show_default=True, help="Passes over the data.")
@click.option("--min-count", default=1, show_default=True, help="Ignore words rarer than this.")
@click.option("--min-count-label", default=1, show_default=True, help="Ignore labels rarer than this.")
@click.option("--word-ngrams", default=1, show_default=True, help="Longest word n-gram used as a feature.")
@click.option("--buckets", default=2_000_000, show_default=True, help="Hash buckets for word n-grams.")
@click.option("--loss", default="softmax", show_default=True, help="softmax, ns (negative sampling) or ova (one-vs-all, multi-label).")
@click.option("--neg", default=5, show_default=True, help="Negative labels per example with --loss ns.")
@click.option("--label-prefix", default="__label__", show_default=True, help="Tokens starting with this are labels.")
@click.option("--eos/--no-eos", default=True, show_default=True,
              help="End every line with the word </s>, as fastText (a line of unknown words still predicts).")
@click.option("--pretrained", default=None, help="Initialise word rows from these vectors (word2vec text or binary).")
@click.option("--freeze", is_flag=True, help="Keep the --pretrained rows fixed while the others train.")
@click.option("--threads", type=int, default=None, help="Worker threads [default: all cores].")
@click.option("--seed", default=1, show_default=True, help="Random seed (--threads 1 is bit-reproducible).")
@click.option("--report", "report_path", default=None, help="Also write the run's figures as JSON here.")
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
def supervised(input_path, output, vectors_path, report_path, quiet, threads, **options):
    """Train a fastText-style classifier on INPUT (`__label__x words ...` per line; .gz/.bz2/.xz ok)."""
    from .fileio import check_readable, check_writable
    from .progress import Progress
    from .supervised import SupervisedConfig, train_supervised

    input_path = _default_input(input_path, DEFAULT_LABELLED)
    config = SupervisedConfig(threads=(os.cpu_count() or 1) if threads is None else threads, **options)
    config.validate()
    check_readable(input_path)
    for path in (output, vectors_path, report_path):
        if path:
            check_writable(path)
    progress = Progress(1, config.threads, quiet=quiet)
    with _stop_on_sigterm():
        model = train_supervised(input_path, config, progress=progress)
    model.save(output)
    if vectors_path:
        started = time.perf_counter()
        model.save_vectors(vectors_path)
        model.report["save_seconds"] += time.perf_counter() - started
    report = model.report
    report["output"] = output
    _write_report(report_path, report)
    skipped = report["skipped_no_label"] + report["skipped_no_words"]
    click.echo(f"Trained {report['words']:,} words ({report['examples']:,} examples x {config.epochs} epochs), "
               f"vocabulary {report['vocab_size']:,}, {report['labels']:,} labels, dim {config.dim}, "
               f"loss {config.loss}, {config.threads} threads"
               + (f"; skipped {report['skipped_no_label']:,} lines without a label and "
                  f"{report['skipped_no_words']:,} without a known word" if skipped else ""))
    _echo_timings(report, config.threads)
    click.echo(f"Saved {output} ({os.path.getsize(output) / 2**20:,.1f} MB)"
               + (f" and {vectors_path}" if vectors_path else ""))


@main.command("test")
@click.argument("model_path", metavar="MODEL")
@click.argument("input_path", metavar="INPUT")
@click.option("-k", default=1, show_default=True, help="Labels predicted per line (-1: all).")
@click.option("--threshold", default=0.0, show_default=True, help="Only predict labels with at least this probability.")
@click.option("--per-label", is_flag=True, help="Also print precision, recall and F1 of every label.")
def test_model(model_path, input_path, k, threshold, per_label):
    """Precision and recall at k of MODEL on labelled INPUT ('-' = stdin), in fastText's layout."""
    from .supervised import format_test, load_model

    model = load_model(model_path)
    result = model.evaluate(input_path, k=k, threshold=threshold)
    if result.unknown_label_lines:
        click.echo(f"Warning: {result.unknown_label_lines:,} lines of {input_path} have labels never seen in "
                   "training; those labels were ignored (a line left with no known label is not scored)", err=True)
    click.echo(format_test(result, per_label))


@main.command()
@click.argument("model_path", metavar="MODEL")
@click.argument("input_path", metavar="INPUT")
@click.option("-k", default=1, show_default=True, help="Labels predicted per line (-1: all).")
@click.option("--probabilities", is_flag=True, help="Print each label's probability after it.")
@click.option("--threshold", default=0.0, show_default=True, help="Only print labels with at least this probability.")
def predict(model_path, input_path, k, probabilities, threshold):
    """Top-k labels for every line of INPUT ('-' = stdin): one output line per input line."""
    from .supervised import format_prediction, load_model

    model = load_model(model_path)
    out = sys.stdout
    try:
        for labels, probs in model.predict_file(input_path, k=k, threshold=threshold):
            out.write(format_prediction(labels, probs, probabilities) + "\n")
        out.flush()
    except BrokenPipeError:  # `fastemb predict ... | head`: the reader has gone, stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)


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
    from .evaluate import (ANALOGY_RESTRICT_VOCAB, SIMILARITY_RESTRICT_VOCAB, evaluate_analogies,
                           evaluate_similarity, format_analogies, format_similarity)
    from .fileio import check_readable
    from .vectors import load_vectors

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
    from .compare import compare_vectors, format_comparison, plot_comparison, require_matplotlib
    from .fileio import check_readable, check_writable
    from .vectors import load_vectors

    words = [w.strip() for spec in word_lists for w in spec.split(",") if w.strip()]
    check_readable(first_path)
    check_readable(second_path)
    if plot_path:
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


if __name__ == "__main__":
    main()
