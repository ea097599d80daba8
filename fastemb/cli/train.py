"""The training commands: skipgram, cbow, supervised, resume, and the machine's own figures (bench, warmup)."""
from __future__ import annotations

import contextlib
import os
from pathlib import Path

import click

from .group import DATA_DIR, DEFAULT_CORPUS, _default_input, _fail, _one_or_list, _say, _threads, _training_inputs, main


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
    from ..base.config import COMBINERS
    command = click.option("--combiner", type=click.Choice(COMBINERS), default="average",
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
    from ..cluster.driver import prepare_on, require_dask
    from ..cluster.sharding import expand_inputs_or_urls
    require_dask()
    inputs = expand_inputs_or_urls(input_args) if input_args else [_default_input(None, default)]
    return inputs, prepare_on(cluster, round_words, combiner)


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
              help="A distributed run: go on on this Dask cluster (local:N or tcp://host:8786) [default: the "
                   "local:N the checkpoint records; a recorded address is never connected to].")
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
        ("minn", int, "Shortest character n-gram (with --maxn)."),
        ("maxn", int, "Longest character n-gram of a word used as a feature (0: none)."),
        ("buckets", int, "Hash buckets for word and character n-grams."),
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
