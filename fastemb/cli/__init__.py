"""The ``fastemb`` command: a thin Click layer over the trainers and the vectors API.

Nothing heavy is imported at module level, so ``fastemb --help`` stays instant;
numba loads only when a command trains.
"""
from __future__ import annotations

import contextlib
import errno
import json
import os
import sys
from pathlib import Path

import click

from .. import __version__
from ..base.errors import FastembError

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
DEFAULT_CORPUS = DATA_DIR / "corpus.txt.gz"


class _Group(click.Group):
    """The one guard of every command: whatever goes wrong ends in a line or two, never a traceback.

    FastembError is one ``Error: ...`` line (exit 1). Ctrl-C, SIGTERM and SIGHUP stop the command
    cleanly (exit 130, 143, 129). A closed pipe on stdout ends quietly (exit 141, as a program killed
    by SIGPIPE), a full one with one line (exit 1). Anything else is a bug: ``Error: internal error:
    ...`` and a line asking to report it; ``--debug`` or FASTEMB_DEBUG=1 shows the traceback instead.
    """

    def invoke(self, ctx):
        from ..base.signals import stop_on_termination
        debug = ctx.params.get("debug") or os.environ.get("FASTEMB_DEBUG", "") not in ("", "0")
        try:
            with stop_on_termination():  # SIGTERM and SIGHUP become KeyboardInterrupts, handled below
                result = super().invoke(ctx)
                sys.stdout.flush()
            return result
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except FastembError as exc:
            _fail(f"Error: {exc}", 1)
        except KeyboardInterrupt as exc:
            from ..base.fileio import written
            from ..base.signals import exit_code
            _fail("\nInterrupted: " + (f"{', '.join(written)} written before the stop." if written else
                                      "no output was written; any existing output file is unchanged."),
                  exit_code(exc))
        except OSError as exc:
            _end_if_stdout_failed(exc)
            if exc.filename is not None and not debug:
                _fail(f"Error: {exc.filename}: {exc.strerror or exc}", 1)
            _internal_error(exc, debug)
        except MemoryError as exc:
            if debug:
                raise
            _fail(f"Error: out of memory ({exc or 'MemoryError'}); lower --dim, --buckets or the vocabulary size", 1)
        except Exception as exc:  # noqa: BLE001 - the guard of last resort
            from ..training.trainer import Interrupted
            if isinstance(exc, Interrupted):  # the trainer's own stop, carrying where it stopped
                from ..base.signals import exit_code
                _fail(f"\n{exc}", exit_code(exc.signal))
            _internal_error(exc, debug)

    def main(self, *args, **kwargs):
        try:
            return super().main(*args, **kwargs)
        except OSError as exc:  # `--help` or `--version` into a closed pipe or a full disk
            _end_if_stdout_failed(exc)
            raise


_OUTPUT_ERRNOS = {errno.EPIPE, errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.EFBIG}


def _end_if_stdout_failed(exc: OSError) -> None:
    """Exit if ``exc`` is a failed write to stdout (no file name: a stream): quietly with 141 for a
    closed pipe (`| head`), as a program killed by SIGPIPE; with one line and 1 for a full disk."""
    if exc.filename is not None or exc.errno not in _OUTPUT_ERRNOS:
        return
    with contextlib.suppress(OSError):  # what is still buffered goes nowhere: no complaint at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    if exc.errno == errno.EPIPE:
        sys.exit(141)
    _fail(f"Error: cannot write to standard output ({exc.strerror})", 1)


def _fail(message: str, code: int):
    """Print ``message`` on stderr (if stderr is still there) and exit with ``code``."""
    with contextlib.suppress(OSError):
        click.echo(message, err=True)
    sys.exit(code)


def _internal_error(exc: BaseException, debug: bool):
    if debug:
        raise exc
    _fail(f"Error: internal error: {type(exc).__name__}: {exc}\n"
          f"This is a bug in fastemb {__version__}: please report it with the command that caused it "
          "(--debug before the command, or FASTEMB_DEBUG=1, shows the traceback).", 1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fastemb")
@click.option("--debug", is_flag=True, help="Show the traceback of an internal error (or set FASTEMB_DEBUG=1).")
def main(debug):
    """Train embedding layers: word2vec skip-gram and CBOW, fastText's subword models, or a fastText-style
    classifier, on one sparse core."""


def _default_input(input_path: str | None, what: Path) -> str:
    if input_path is not None:
        return input_path
    if not what.exists():
        raise FastembError(f"no INPUT given and the embedded default {what} is missing "
                           "(run `python data/generate.py` in a source checkout)")
    click.echo(f"No INPUT given: training on the embedded default corpus {what}", err=True)
    return str(what)


def _training_inputs(args: tuple[str, ...], default: Path) -> list[str]:
    """The INPUT arguments, read in order as one corpus ('-': stdin; quoted globs expanded)."""
    from ..base.fileio import expand_inputs
    return expand_inputs(args) if args else [_default_input(None, default)]


def _one_or_list(paths: list[str]) -> str | list[str]:
    """A single input stays a plain path (in reports and checkpoints)."""
    return paths[0] if len(paths) == 1 else paths


def _write_report(path: str | None, report: dict) -> None:
    if not path:
        return
    from ..base.fileio import atomic_output
    with atomic_output(path, "w") as handle:
        json.dump(report, handle, indent=2, default=float)
        handle.write("\n")


def _defaults(config_class) -> dict:
    """Field defaults of a config dataclass: the one place the CLI's defaults come from."""
    import dataclasses
    return {f.name: f.default for f in dataclasses.fields(config_class) if f.default is not dataclasses.MISSING}


def _config_options(config_class, specs):
    """Click options for config fields, defaults taken from the config class: ``(field, type, help)``."""
    defaults = _defaults(config_class)

    def decorate(command):
        for name, kind, text in reversed(specs):
            flag = "--" + name.replace("_", "-")
            if kind is bool:
                command = click.option(flag, name, is_flag=True, help=text)(command)
            elif kind is None:  # optional, no default
                command = click.option(flag, name, type=int, default=None, help=text)(command)
            else:
                command = click.option(flag, name, type=kind, default=defaults[name], show_default=True,
                                       help=text)(command)
        return command
    return decorate


# Option specs (field, type, help) that several commands share.
_DIM = ("dim", int, "Vector dimension.")
_EPOCHS = ("epochs", int, "Passes over the data.")
_SEED = ("seed", int, "Random seed (--threads 1 is bit-reproducible).")
_HOT_ROWS = ("hot_rows", click.IntRange(min=0),
             "With 2+ threads: the hottest rows of each table (most frequent words, labels, Huffman nodes near "
             "the root) each thread trains a private copy of, merged every chunk [default: 1024, at most a "
             "quarter of them; 0: off].")


def _run_options(command):
    command = click.option("-q", "--quiet", is_flag=True, help="No progress output.")(command)
    command = click.option("--report", "report_path", default=None, help="Also write the run's figures as JSON here.")(command)
    command = click.option("--save-on-interrupt", is_flag=True,
                           help="On Ctrl-C/SIGTERM also write the outputs trained so far.")(command)
    command = click.option("--checkpoint-every", default=600.0, show_default=True,
                           help="Seconds between checkpoints.")(command)
    command = click.option("--checkpoint", default=None,
                           help="Save the full training state here, periodically and on Ctrl-C.")(command)
    command = click.option("--threads", type=int, default=None, help="Worker threads [default: all cores].")(command)
    return command


def _cluster_options(command):
    command = click.option("--combiner", type=click.Choice(["average", "sum", "mean"]), default="average",
                           show_default=True,
                           help="With --cluster: how the workers' changes to a row make the round's change (average: "
                                "each worker trains at the rate times the workers, up to 4, and a row's changes are divided "
                                "by that factor, at least workers/2, the most frequent words' rows by the workers; "
                                "sum: added; mean: averaged over the workers that changed the row).")(command)
    command = click.option("--round-words", type=click.IntRange(min=10_000), default=None,
                           help="With --cluster: words each worker trains between two merges of the model "
                                "[default: 4,000,000 up to 2 workers, past 2 workers 2,000,000 shared out among them; "
                                "fewer on a small corpus: at least 8 rounds].")(command)
    command = click.option("--cluster", default=None, metavar="ADDRESS",
                           help="Train on a Dask cluster: local:N starts N worker processes here, tcp://host:8786 "
                                "connects to a scheduler (pip install 'fastemb[distributed]'); --threads are each "
                                "worker's [default: 1]. INPUT may also be fsspec URLs (s3://...).")(command)
    return command


_MORE_HELP = """

    Several INPUT files are read in order as one corpus; '-' reads standard input.

    Exit codes: 0 done; 1 an error (nothing written, an existing output unchanged); 3 the output
    was written but the final --checkpoint could not be; 130, 143, 129 stopped by Ctrl-C,
    SIGTERM, SIGHUP (the checkpoint written, with --save-on-interrupt the output too).
    """


def _word2vec_command(model: str, summary: str):
    from ..base.config import Word2VecConfig

    @click.argument("input_args", metavar="[INPUT]...", nargs=-1)
    @click.option("-o", "--output", required=True, help="Vectors file to write (word2vec text format).")
    @_config_options(Word2VecConfig, [_DIM, _EPOCHS,
        ("window", int, "Maximum context window (reduced at random per word)."),
        ("loss", str, "ns (negative sampling) or hs (hierarchical softmax: a Huffman tree of the word counts; "
                      "--negative is ignored)."),
        ("negative", int, "Noise words per positive example (--loss ns)."),
        ("sample", float, "Subsampling threshold for frequent words (0: off)."),
        ("min_count", int, "Ignore words rarer than this."),
        ("max_vocab", None, "Keep at most this many most frequent words."),
        ("max_words", int, "Distinct words counted while reading; past this, the rarest so far are pruned "
                           "(word2vec's ReduceVocab; about 70 bytes a word)."),
        ("min_lr", float, "Final learning rate (linear decay)."),
        ("kernel", str, "batched (a window's contexts share targets: fast) or pair (word2vec's per-pair updates; "
                        "skip-gram)."),
        *([("cbow_sum", bool, "Sum the context rows instead of averaging them (gensim's cbow_mean=0).")]
          if model == "cbow" else []),
        ("maxn", int, "Longest character n-gram of fastText's subword model (a word is the mean of its own row "
                      "and its n-grams' rows; 0: none, word2vec's model)."),
        ("minn", int, "Shortest character n-gram (with --maxn)."),
        ("buckets", int, "Hash buckets for the character n-grams (with --maxn)."),
        _SEED, _HOT_ROWS,
        ("init", str, "Continue training from these vectors (word2vec file) or a checkpoint."),
        ("on_disk", bool, "Keep the encoded corpus in a file beside the output (bounded memory)."),
        ("max_memory", float, "MB of token ids kept in memory; a larger corpus is trained from a file beside "
                              "the output."),
    ])
    @click.option("--lr", type=float, default=None,
                  help=f"Initial learning rate  [default: {0.05 if model == 'cbow' else 0.025}, as word2vec].")
    @click.option("--binary", is_flag=True, help="Write word2vec binary format instead of text.")
    @click.option("--save-model", "model_path", default=None,
                  help="Also write the whole model (an .npz: both tables, the vocabulary, the settings), for "
                       "`fastemb vectors`, `neighbors` and `export` and for vectors of unseen words with subwords.")
    @_cluster_options
    @_run_options
    def command(input_args, output, binary, model_path, threads, checkpoint, checkpoint_every, save_on_interrupt,
                report_path, quiet, cluster, round_words, combiner, **options):
        from ..training.families import WORD2VEC

        prepare = WORD2VEC.prepare
        if cluster is not None:  # the workers read the inputs; --threads are each worker's
            inputs, prepare = _on_cluster(input_args, cluster, round_words, combiner)
            threads = 1 if threads is None else threads
        else:
            inputs, threads = _training_inputs(input_args, DEFAULT_CORPUS), _threads(threads, quiet)
        config = Word2VecConfig(model=model, threads=threads, **options)
        run_info = {"output": output, "binary": binary, "model": model_path}
        _train(prepare, inputs, config, run_info, checkpoint, checkpoint_every, save_on_interrupt, report_path, quiet)

    command.__doc__ = summary + _MORE_HELP
    return main.command(model)(command)


skipgram = _word2vec_command(
    "skipgram", "Train skip-gram (word2vec) vectors on INPUT (one sentence per line; .gz/.bz2/.xz ok).")
cbow = _word2vec_command(
    "cbow", "Train CBOW (word2vec) vectors on INPUT: the mean of a word's context rows predicts the word.")


def _on_cluster(input_args, cluster, round_words, combiner, default: Path = DEFAULT_CORPUS):
    """(the inputs, the prepare function) of a distributed run; the error line if dask is missing."""
    import functools

    from ..cluster.driver import prepare, require_dask
    from ..cluster.sharding import expand_inputs_or_urls
    require_dask()
    inputs = expand_inputs_or_urls(input_args) if input_args else [_default_input(None, default)]
    return inputs, functools.partial(prepare, cluster=cluster, round_words=round_words, combiner=combiner)


def _train(prepare, inputs, config, run_info, checkpoint, checkpoint_every, save_on_interrupt, report_path,
           quiet) -> None:
    """What every training command does: check, read, train (with checkpoints), save, summarise."""
    from ..base.fileio import check_paths
    from ..base.limits import check_number
    from ..base.progress import Progress
    from ..training.run import run_to_file

    check_number("--checkpoint-every", checkpoint_every, positive=True)
    given = {"-o/--output": run_info["output"], "--vectors": run_info.get("vectors"),
             "--save-model": run_info.get("model"), "--report": report_path, "--checkpoint": checkpoint}
    check_paths({**{f"INPUT {i + 1}" if len(inputs) > 1 else "INPUT": path for i, path in enumerate(inputs)},
                 "--init": getattr(config, "init", None), "--pretrained": getattr(config, "pretrained", None)},
                given)
    from ..training.families import family_of
    family_of(config).check_memory(config)  # the n-gram rows alone, before reading (a cluster run too)
    shown = dict(run_info)  # the outputs as the user named them, for the summary
    from ..cluster.sharding import is_url
    absolute = [path if path == "-" or is_url(path) else os.path.abspath(path) for path in inputs]
    run_info = {**run_info, "input": _one_or_list(absolute), "output": os.path.abspath(run_info["output"]),
                "report": os.path.abspath(report_path) if report_path else None}
    for key in ("vectors", "model"):
        if run_info.get(key):
            run_info[key] = os.path.abspath(run_info[key])
    progress = Progress(1, config.threads, quiet=quiet)
    _return_freed_memory()
    trainer, report = prepare(_one_or_list(inputs), config, progress, workdir=_workdir(run_info["output"]))
    model = run_to_file(trainer, report, run_info, checkpoint, checkpoint_every, save_on_interrupt, progress)
    _finish(model, run_info, shown)


@main.command()
@click.argument("checkpoint")
@click.option("-o", "--output", default=None,
              help="Write the output (vectors or model) here [default: the output the checkpoint records, if it is "
                   "in the checkpoint's directory].")
@click.option("--vectors", "vectors_path", default=None,
              help="A classifier's word vectors here [default: as the checkpoint records, in its directory].")
@click.option("--save-model", "model_path", default=None,
              help="A word2vec model file here [default: as the checkpoint records, in its directory].")
@click.option("--report", "report_path", default=None,
              help="Write the run's figures as JSON here [default: the report the checkpoint records, if any and "
                   "in the checkpoint's directory].")
@click.option("--cluster", default=None, metavar="ADDRESS",
              help="A distributed run: go on on this Dask cluster (local:N or tcp://host:8786) [default: the one "
                   "the checkpoint records].")
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
def resume(checkpoint, output, vectors_path, model_path, report_path, cluster, quiet):
    """Continue an interrupted training run (any command) from its CHECKPOINT and write its outputs.

    The outputs the checkpoint records are written only when they are in the checkpoint's own
    directory: a checkpoint may come from someone else, and must not choose which of your files
    to replace. Otherwise resume refuses; -o (--vectors, --report) say where to write. The output
    path is printed before training. Exit codes as for skipgram.
    """
    from ..base.progress import Progress
    from ..training.run import resume as resume_run

    progress = Progress(1, 1, quiet=quiet)
    _return_freed_memory()

    def announce(outputs, report):
        _say(f"Resuming {checkpoint}: writing {outputs}" + (f", the report to {report}" if report else ""))
    from ..cluster.driver import require_dask, resume_prepare
    if cluster is not None:
        require_dask()
    model, run_info = resume_run(checkpoint, progress, output, report_path, vectors_path, model_path, announce,
                                 cluster, distributed=resume_prepare)
    _finish(model, run_info)


def _say(message: str) -> None:
    """A line on stderr that -q does not silence; best effort (a terminal gone with SIGHUP stops nothing)."""
    with contextlib.suppress(OSError):
        click.echo(message, err=True)


def _threads(requested: int | None, quiet: bool, flag: str = "--threads") -> int:
    """``requested`` threads, or all cores; more than the cores is cut to them, with a note."""
    from ..base.limits import usable_threads
    threads, note = usable_threads(requested, flag)
    if note and not quiet:
        _say(note)
    return threads


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


def _finish(model, run_info: dict, shown: dict | None = None) -> None:
    """The report file and the summary lines every training command prints (``shown``: the outputs as the
    user named them)."""
    from ..training.run import outputs_of
    report, config = model.report, model.config
    report["output"] = run_info["output"]
    _write_report(run_info.get("report"), report)
    from ..base.progress import plural
    from ..training.families import family_of
    workers = f"{plural(report['workers'], 'worker')} x " if "workers" in report else ""
    click.echo(family_of(config).summary(report, config, f"{workers}{plural(config.threads, 'thread')}"))
    _echo_timings(report, config.threads * report.get("workers", 1))
    shown = shown or run_info
    saved = [f"{shown[key]}" + (f" ({os.path.getsize(run_info[key]) / 2**20:,.1f} MB)"
                                if os.path.isfile(run_info[key]) else "")
             for key in ("output", "vectors", "model") if run_info.get(key)]
    click.echo(f"Saved {' and '.join(saved)}")
    if report.get("checkpoint_error"):
        from ..training.finishing import EXIT_CHECKPOINT_NOT_WRITTEN
        _fail(f"Warning: {outputs_of(shown)} saved but the final checkpoint was not ({report['checkpoint_error']})",
              EXIT_CHECKPOINT_NOT_WRITTEN)


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
    a line at a time from a terminal."""
    if words != ("-",):
        yield list(words)
        return
    batch = []
    for line in sys.stdin.buffer:
        batch.extend(w.decode("utf-8", "surrogateescape") for w in line.split())
        if len(batch) >= size or interactive:
            yield batch
            batch = []
    if batch:
        yield batch


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
    from ..base.config import Word2VecConfig
    from ..training.word2vec import measure_throughput

    from ..base.limits import check_integer

    input_path = _default_input(input_path, DEFAULT_CORPUS)
    check_integer("--words", budget, 1)
    check_integer("--repeat", repeat, 1, 1_000)
    max_threads = _threads(max_threads, quiet=False)
    import dataclasses
    import statistics

    config = Word2VecConfig(kernel=kernel, **options)
    thread_counts = list(range(1, max_threads + 1))
    rounds = measure_throughput(input_path, [dataclasses.replace(config, threads=n) for n in thread_counts], budget,
                                repeat, say=lambda message: click.echo(message, err=True))
    click.echo(f"{'threads':>7}  {'words/sec':>12}  {'per thread':>12}  {'speed-up':>8}  (min-max words/sec)")
    one = statistics.median(rates[0] for rates in rounds)
    for i, threads in enumerate(thread_counts):
        rates = [rates[i] for rates in rounds]
        median = statistics.median(rates)
        click.echo(f"{threads:>7}  {median:>12,.0f}  {median / threads:>12,.0f}  "
                   f"{median / one:>7.2f}x  ({min(rates):,.0f}-{max(rates):,.0f})")


@main.command()
def warmup():
    """Compile the Numba kernels now (they are cached), so the first training run starts at once."""
    from ..training.families import SUPERVISED, WORD2VEC

    word2vec_seconds, supervised_seconds = WORD2VEC.warm_up(), SUPERVISED.warm_up()
    click.echo(f"Kernels ready in {word2vec_seconds + supervised_seconds:.2f} s "
               f"(training {word2vec_seconds:.2f} s, the classifier's reading and prediction {supervised_seconds:.2f} s)")


def _supervised_options(command):
    from ..base.config import SupervisedConfig
    return _config_options(SupervisedConfig, [
        _DIM,
        ("lr", float, "Initial learning rate (decays linearly to --min-lr)."),
        ("min_lr", float, "Final learning rate."),
        _EPOCHS,
        ("min_count", int, "Ignore words rarer than this."),
        ("min_count_label", int, "Ignore labels rarer than this."),
        ("word_ngrams", int, "Longest word n-gram used as a feature."),
        ("buckets", int, "Hash buckets for word n-grams."),
        ("loss", str, "softmax, ns (negative sampling), ova (one-vs-all, multi-label) or hs (hierarchical softmax)."),
        ("neg", int, "Negative labels per example with --loss ns."),
        ("label_prefix", str, "Tokens starting with this are labels."),
        ("pretrained", str, "Initialise word rows from these vectors (word2vec text or binary)."),
        ("freeze", bool, "Keep the --pretrained rows fixed while the others train."),
        _SEED, _HOT_ROWS,
        ("on_disk", bool, "Keep the encoded examples in a file beside the output (bounded memory in training)."),
        ("max_memory", float, "MB of encoded input rows kept in memory; more are trained from a file beside "
                              "the output."),
    ])(command)


DEFAULT_LABELLED = DATA_DIR / "labelled-train.txt"


@main.command()
@click.argument("input_args", metavar="[INPUT]...", nargs=-1)
@click.option("-o", "--output", required=True, help="Model file to write (an .npz archive, at exactly this path).")
@click.option("--vectors", "vectors_path", default=None, help="Also write the learned word vectors (word2vec text).")
@_supervised_options
@click.option("--eos/--no-eos", default=True, show_default=True,
              help="End every line with the word </s>, as fastText (a line of unknown words still predicts).")
@_cluster_options
@_run_options
def supervised(input_args, output, vectors_path, threads, checkpoint, checkpoint_every, save_on_interrupt,
               report_path, quiet, cluster, round_words, combiner, **options):
    """Train a fastText-style classifier on INPUT (`__label__x words ...` per line; .gz/.bz2/.xz ok).

    Several INPUT files are read in order as one data set; '-' reads standard input. Exit codes as
    for skipgram.
    """
    from ..base.config import SupervisedConfig
    from ..training.families import SUPERVISED

    prepare = SUPERVISED.prepare
    if cluster is not None:  # the workers read the inputs; --threads are each worker's
        inputs, prepare = _on_cluster(input_args, cluster, round_words, combiner, DEFAULT_LABELLED)
        threads = 1 if threads is None else threads
    else:
        inputs, threads = _training_inputs(input_args, DEFAULT_LABELLED), _threads(threads, quiet)
    config = SupervisedConfig(threads=threads, **options)
    _train(prepare, inputs, config, {"output": output, "vectors": vectors_path}, checkpoint, checkpoint_every,
           save_on_interrupt, report_path, quiet)


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
