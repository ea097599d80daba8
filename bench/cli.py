"""``python -m bench``: fastemb against gensim, fastText and word2vec C, side by side.

    python -m bench sgns        [--corpus F] [--epochs 5 --dim 100 ...] [--threads 2] [--repeat 2] [--tools ...] [--quick]
                                [--model sg|cbow] [--loss ns|hs] (or the NAME-cbow / NAME-hs entries of --tools)
    python -m bench supervised  [--datasets trec,20ng,imdb] [--seeds 1,2,3] [--loss softmax,hs] [--quick]
    python -m bench threads     [--thread-counts 1,2] (skip-gram words/sec against threads, with a PNG plot)
    python -m bench size        [--fractions 0.25,0.5,1] (skip-gram cost against corpus prefixes)
    python -m bench distributed [--workers 1,2,4,8] [--partitions 1,2,4,8] [--hs] [--no-spark] [--quick]
                                (fastemb on a local Dask cluster against one process and Spark MLlib's Word2Vec)
    python -m bench results     [JSON ...] (rewrite bench/RESULTS.md sections from benchmark JSON)
    python -m bench --quick     [--out DIR --data DIR ...] (every mode's --quick in turn: sgns, supervised, threads, size)

Each run is a separate subprocess; tools are interleaved (A B C A B C ...) and
repeated. Every run writes ``OUT/MODE-YYYYmmdd-HHMMSS.json`` and ``.md`` (and
``MODE-latest.*``) and prints the markdown table. See bench/README.md.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

from . import report
from .datasets import DATASETS, dataset_available, default_data_dir, prepare_classification, prepare_corpus
from .quality import resolved_evaluator
from .sgns_bench import describe, log, run_sgns, summarise_runs
from .tools import DEFAULT_SGNS_TOOLS, LOSSES, MODELS, SGNS_TOOLS, Settings, tool_versions

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = Path(__file__).resolve().parent / "out"

MODES = ("sgns", "supervised", "threads", "size", "distributed", "results")
QUICK_MODES = ("sgns", "supervised", "threads", "size")  # what ``python -m bench --quick`` runs, in order
SUPERVISED_LOSSES = ("softmax", "ns", "hs", "ova")

# Per mode: defaults for options left unset (the full run), and what --quick changes.
SGNS_DEFAULTS = {
    "sgns": dict(epochs=5, repeat=2, quality="all"),
    "threads": dict(epochs=1, repeat=2, quality="none"),
    "size": dict(epochs=1, repeat=2, quality="none"),
}
QUICK = dict(corpus_name="en-mix-small.txt.gz", epochs=1, dim=50, repeat=1, quality="similarity",
             sweep_tokens=500_000)  # threads/size --quick: the first half of en-mix-small


def _csv(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _add_corpus_options(p: argparse.ArgumentParser, epochs: int) -> None:
    """The corpus and the word2vec settings every training benchmark takes."""
    p.add_argument("--corpus", help="training text (.gz ok) [en-mix.txt.gz in the data dir; --quick: en-mix-small]")
    p.add_argument("--epochs", type=int, help=f"passes over the corpus [{epochs}; --quick: 1]")
    p.add_argument("--window", type=int, default=5)
    p.add_argument("--negative", type=int, default=5)
    p.add_argument("--sample", type=float, default=1e-4)
    p.add_argument("--min-count", type=int, default=5)


def _add_sgns_options(p: argparse.ArgumentParser, mode: str) -> None:
    d = SGNS_DEFAULTS[mode]
    _add_corpus_options(p, d["epochs"])
    p.add_argument("--dim", type=int, help="vector dimension [100; --quick: 50]")
    p.add_argument("--lr", type=float, default=None, help="initial learning rate, the same for every tool "
                   "(min 0.0001 where settable) [word2vec's: 0.025 skip-gram, 0.05 CBOW]")
    p.add_argument("--model", choices=MODELS, default="sg", help="skip-gram or CBOW for every entry "
                   "(NAME-cbow entries: CBOW whatever this says) [sg]")
    p.add_argument("--loss", choices=LOSSES, default="ns", help="negative sampling or hierarchical softmax "
                   "for every entry (NAME-hs entries: hs) [ns]")
    p.add_argument("--cbow-sum", action="store_true", help="CBOW: sum instead of mean of the context rows "
                   "(fastemb and gensim only)")
    p.add_argument("--seed", type=int, default=1)
    if mode != "threads":
        p.add_argument("--threads", type=int, default=2, help="worker threads for every tool [2]")
    p.add_argument("--repeat", type=int, help=f"runs per tool (interleaved) [{d['repeat']}; --quick: 1]")
    p.add_argument("--tools", default=",".join(DEFAULT_SGNS_TOOLS),
                   help=f"comma-separated, of: {', '.join(SGNS_TOOLS)} [{','.join(DEFAULT_SGNS_TOOLS)}]")
    p.add_argument("--tokens", type=int, help="use only the first (about) N tokens of the corpus (whole lines)")
    p.add_argument("--quality", choices=["all", "similarity", "none"], default=None,
                   help="evaluate every run's vectors: analogies + WS353 + MEN, only the two similarity sets "
                        f"(fast), or not at all [{d['quality']}; --quick: all with fastemb's evaluator, "
                        "similarity with gensim's]")
    p.add_argument("--keep-vectors", action="store_true", help="keep each run's vectors in OUT/vectors/")


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true", help="smoke test in under two minutes (see README)")
    p.add_argument("--out", default=str(DEFAULT_OUT), help="where JSON, markdown and plots go [bench/out]")
    p.add_argument("--data", default=None, help="the shared data directory [$FASTEMB_DATA or ../shared/data]")
    p.add_argument("--workdir", default=None, help="scratch directory for the decompressed corpus and the "
                                                   "runs' files [a fresh temporary directory, removed at the end]")
    p.add_argument("--timeout", type=float, default=None, help="kill a run after this many seconds")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="with no mode: every mode's --quick in turn "
                        f"({', '.join(QUICK_MODES)}); options after it go to each of them")
    sub = parser.add_subparsers(dest="mode")
    sg = sub.add_parser("sgns", help="skip-gram (or CBOW, hierarchical softmax): every tool on the same "
                                       "corpus and settings")
    _add_sgns_options(sg, "sgns")
    _add_common(sg)
    th = sub.add_parser("threads", help="skip-gram words/sec against thread count, per tool (+ PNG)")
    _add_sgns_options(th, "threads")
    th.add_argument("--thread-counts", default=None, help="comma-separated [1..number of cores]")
    _add_common(th)
    sz = sub.add_parser("size", help="skip-gram cost against corpus prefixes (tokens, vocabulary)")
    _add_sgns_options(sz, "size")
    sz.add_argument("--fractions", default="0.25,0.5,1", help="prefixes as fractions of the corpus tokens")
    _add_common(sz)
    sup = sub.add_parser("supervised", help="fastemb vs fastText classifiers on TREC, 20NG, IMDB")
    sup.add_argument("--datasets", default="trec,20ng,imdb")
    sup.add_argument("--tools", default="fastemb,fasttext,fasttext-cli")
    sup.add_argument("--ngrams", default="1,2", help="wordNgrams settings to run [1,2]")
    sup.add_argument("--bucket", type=int, default=10_000_000, help="hash buckets with wordNgrams > 1")
    sup.add_argument("--seeds", default=None, help="[1,2,3; --quick: 1]")
    sup.add_argument("--epochs", type=int, default=None, help="override every data set's epochs "
                                                              "[TREC 25, 20NG 50, IMDB 5]")
    sup.add_argument("--dim", type=int, default=10)
    sup.add_argument("--lr", type=float, default=0.1)
    sup.add_argument("--loss", default="softmax", help="comma-separated losses to run, of: "
                     f"{', '.join(SUPERVISED_LOSSES)} (fastText's -loss; ova = one-vs-all) [softmax]")
    sup.add_argument("--threads", type=int, default=2)
    sup.add_argument("--cache", default=None, help="converted data sets [OUT/data]")
    _add_common(sup)
    dist = sub.add_parser("distributed", help="fastemb on a local Dask cluster of 1..8 workers against one "
                                                "process and Spark MLlib's Word2Vec")
    _add_corpus_options(dist, 5)
    dist.add_argument("--dim", type=int, default=100)
    dist.add_argument("--lr", type=float, default=0.025)
    dist.add_argument("--seed", type=int, default=1)
    dist.add_argument("--workers", default=None, help="cluster sizes (worker processes of 1 thread) [1,2,4,8; "
                                                      "--quick: 1,2]")
    dist.add_argument("--partitions", default=None, help="MLlib numPartitions [1,2,4,8; --quick: 1,2]")
    dist.add_argument("--tokens", type=int, help="use only the first (about) N tokens of the corpus (whole lines)")
    dist.add_argument("--hs", action="store_true", help="also fastemb with --loss hs (MLlib's loss), one process "
                                                        "and every cluster size")
    dist.add_argument("--no-spark", action="store_true", help="leave MLlib out")
    dist.add_argument("--only", default=None, help="run only these entries (comma-separated names, e.g. "
                                                   "fastemb-hs,cluster-2-hs,spark-8) [all]")
    dist.add_argument("--spark-master", default="local[2]")
    dist.add_argument("--spark-memory", default="6g", help="spark.driver.memory [6g]")
    dist.add_argument("--round-words", type=int, default=None, help="fastemb --round-words [its default]")
    dist.add_argument("--combiner", default=None, help="fastemb --combiner [its default]")
    dist.add_argument("--quality", choices=["all", "similarity"], default="all")
    dist.add_argument("--keep-vectors", action="store_true", help="keep each run's vectors in OUT/vectors/")
    _add_common(dist)
    res = sub.add_parser("results", help="rewrite bench/RESULTS.md sections from benchmark JSON files")
    res.add_argument("json", nargs="*", help="benchmark JSON files [the newest of each mode in --out]")
    res.add_argument("--out", default=str(DEFAULT_OUT))
    res.add_argument("--results", default=str(report.RESULTS_MD))
    return parser


# ---------------------------------------------------------------------------------------------

def _select_tools(requested: list[str], known: dict, available) -> tuple[list[str], dict]:
    chosen, skipped = [], {}
    for name in requested:
        if name not in known:
            raise SystemExit(f"unknown tool {name!r}; choose from {', '.join(known)}")
        why = available(name)
        if why:
            skipped[name] = why
            log(f"skipping {name}: {why}")
        else:
            chosen.append(name)
    if not chosen:
        raise SystemExit("none of the requested tools is installed")
    return chosen, skipped


def sgns_section(mode: str, objectives: list[str]) -> str:
    """RESULTS.md section (and output file name) of a run: MODE, or MODE-cbow / -hs / -cbow-hs ... when the
    entries train CBOW or hierarchical softmax, so that such runs do not replace the skip-gram tables."""
    parts = {part for objective in objectives for part in objective.split("-") if part}
    return "-".join([mode] + [part for part in ("cbow", "sum", "hs") if part in parts])


def _new_doc(mode: str, argv: list[str]) -> dict:
    return {"mode": mode, "command": "python -m bench " + shlex.join(argv), "argv": argv,
            "started": time.strftime("%Y-%m-%d %H:%M:%S %z"), "loadavg_start": round(os.getloadavg()[0], 2),
            "machine": report.machine_info(), "versions": tool_versions()}


def _finish(doc: dict, out_dir: Path, started: float) -> tuple[Path, str]:
    doc["elapsed_seconds"] = time.perf_counter() - started
    doc["loadavg_end"] = round(os.getloadavg()[0], 2)
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    section = doc.get("section", doc["mode"])
    base = out_dir / f"{section}-{stamp}"
    if doc["mode"] == "threads":
        plotted = report.plot_threads(doc, base.with_suffix(".png"))
        if plotted:
            plotted = str(Path(plotted).resolve())
            doc["plot"] = os.path.relpath(plotted, ROOT) if plotted.startswith(str(ROOT) + os.sep) else plotted
    markdown = report.render(doc)
    base.with_suffix(".json").write_text(json.dumps(doc, indent=1, default=float) + "\n")
    base.with_suffix(".md").write_text(markdown)
    for suffix in (".json", ".md", ".png"):
        if base.with_suffix(suffix).exists():
            shutil.copyfile(base.with_suffix(suffix), out_dir / f"{section}-latest{suffix}")
    return base.with_suffix(".json"), markdown


@contextlib.contextmanager
def _workdir(args):
    """A mode's scratch folder: --workdir (kept), or a temporary one removed at the end."""
    if args.workdir:
        path = Path(args.workdir)
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    path = Path(tempfile.mkdtemp(prefix="fastemb-bench-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _run_plan(plan: list, run_one, describe_run) -> list[dict]:
    """Every item of ``plan`` run in turn (``run_one(item)``: its record), each logged as it ends."""
    runs = []
    for i, item in enumerate(plan, 1):
        runs.append(run_one(item))
        log(f"[{i}/{len(plan)}] " + describe_run(item, runs[-1]))
    return runs


def _done(doc: dict, runs: list[dict], out_dir: Path, started: float, summary=None) -> int:
    """The runs (and their summary) into the results files; the tables printed."""
    doc["runs"] = runs
    if summary is not None:
        doc["summary"] = summary
    path, markdown = _finish(doc, out_dir, started)
    return _announce(path, markdown, runs)


def run_sgns_mode(args, argv: list[str]) -> int:
    started = time.perf_counter()
    mode = args.mode
    defaults = SGNS_DEFAULTS[mode]
    data_dir = Path(args.data) if args.data else default_data_dir()
    corpus_path = Path(args.corpus) if args.corpus else data_dir / (QUICK["corpus_name"] if args.quick else "en-mix.txt.gz")
    if not corpus_path.exists():
        raise SystemExit(f"corpus {corpus_path} not found (use --corpus or --data)")
    epochs = args.epochs or (QUICK["epochs"] if args.quick else defaults["epochs"])
    dim = args.dim or (QUICK["dim"] if args.quick else 100)
    repeat = args.repeat or (QUICK["repeat"] if args.quick else defaults["repeat"])
    quick_quality = "all" if resolved_evaluator() == "fastemb" else QUICK["quality"]  # gensim's analogies are slow
    evaluate = args.quality or (quick_quality if args.quick and defaults["quality"] != "none"
                                else defaults["quality"])
    thread_counts = [getattr(args, "threads", 2)]
    if mode == "threads":
        thread_counts = ([int(x) for x in _csv(args.thread_counts)] if args.thread_counts
                         else list(range(1, (os.cpu_count() or 1) + 1)))
    settings = Settings(epochs=epochs, dim=dim, window=args.window, negative=args.negative, sample=args.sample,
                        min_count=args.min_count, threads=thread_counts[-1], lr=args.lr, seed=args.seed,
                        model=args.model, loss=args.loss, cbow_mean=not args.cbow_sum)
    tools, skipped = _select_tools(_csv(args.tools), SGNS_TOOLS, lambda n: SGNS_TOOLS[n].available()
                                   or SGNS_TOOLS[n].unsupported(SGNS_TOOLS[n].configure(settings)))
    out_dir = Path(args.out)
    with _workdir(args) as work:
        log(f"decompressing {corpus_path} into {work} ..." if corpus_path.suffix in (".gz", ".bz2", ".xz")
            else f"counting the tokens of {corpus_path} ...")
        tokens = args.tokens or (QUICK["sweep_tokens"] if args.quick and mode != "sgns" else None)
        corpora = prepare_corpus(corpus_path, work, [tokens])
        if mode == "size":
            fractions = sorted(float(f) for f in _csv(args.fractions))
            base = corpora[0]
            limits = [int(round(f * base["tokens"])) for f in fractions if f < 1]
            corpora = prepare_corpus(Path(base["path"]), work / "prefixes", limits) if limits else []
            if any(f >= 1 for f in fractions):
                corpora.append(base)
        whole = max(corpora, key=lambda c: c["tokens"])
        log(f"corpus: {whole['tokens']:,} tokens, {whole['lines']:,} lines -> {whole['path']}")
        doc = _new_doc(mode, argv)
        doc["section"] = sgns_section(mode, [SGNS_TOOLS[n].configure(settings).objective for n in tools])
        doc.update({"settings": settings.asdict(), "repeat": repeat, "tools": tools, "skipped": skipped,
                    "evaluate": evaluate,
                    "corpus": {"source": str(corpus_path), "tokens": whole["tokens"], "lines": whole["lines"],
                               "limit": tokens, "note": "decompressed once; reading times exclude gunzip"}})
        if mode == "threads":
            doc["thread_counts"] = thread_counts
        if mode == "size":
            doc["prefixes"] = [{"tokens": c["tokens"], "lines": c["lines"]} for c in corpora]
        plan = []
        for rep in range(repeat):
            for corpus in corpora:
                for threads in thread_counts:
                    for tool in tools:
                        plan.append((rep, corpus, threads, tool))
        keep = out_dir / "vectors" if args.keep_vectors else None

        def run_one(item):
            rep, corpus, threads, tool = item
            run_settings = Settings(**{**settings.asdict(), "threads": threads})
            record = run_sgns(tool, run_settings, corpus, work, data_dir, evaluate=evaluate, keep_dir=keep,
                              timeout=args.timeout)
            record["repeat_index"] = rep
            return record

        def describe_run(item, record):
            _, corpus, threads, _ = item
            return ((f"{corpus['tokens']:,} tokens, " if mode == "size" else "")
                    + (f"{threads} threads, " if mode == "threads" else "") + describe(record))

        runs = _run_plan(plan, run_one, describe_run)
        keys = {"sgns": ("tool",), "threads": ("tool", "threads"), "size": ("tool", "corpus_tokens")}[mode]
        return _done(doc, runs, out_dir, started, summarise_runs(runs, keys))


def run_supervised_mode(args, argv: list[str]) -> int:
    from .supervised_bench import SUPERVISED_TOOLS, describe as describe_sup, run_supervised, summarise_runs as summ
    from .supervised_bench import supervised_available

    started = time.perf_counter()
    data_dir = Path(args.data) if args.data else default_data_dir()
    out_dir = Path(args.out)
    cache = Path(args.cache) if args.cache else out_dir / "data"
    names = _csv(args.datasets)
    if args.quick and args.datasets == "trec,20ng,imdb":
        names = ["trec"]
    seeds = [int(s) for s in _csv(args.seeds)] if args.seeds else ([1] if args.quick else [1, 2, 3])
    ngram_list = [int(n) for n in _csv(args.ngrams)]
    losses = _csv(args.loss)
    for loss in losses:
        if loss not in SUPERVISED_LOSSES:
            raise SystemExit(f"unknown loss {loss!r}; choose from {', '.join(SUPERVISED_LOSSES)}")
    tools, skipped = _select_tools(_csv(args.tools), dict.fromkeys(SUPERVISED_TOOLS), supervised_available)
    datasets = {}
    for name in names:
        if name not in DATASETS:
            raise SystemExit(f"unknown data set {name!r}; choose from {', '.join(DATASETS)}")
        if not dataset_available(name, data_dir):
            skipped[name] = f"data not found in {data_dir}"
            log(f"skipping {name}: data not found in {data_dir}")
            continue
        log(f"converting {name} (cached in {cache}) ...")
        datasets[name] = prepare_classification(name, data_dir, cache)
    if not datasets:
        raise SystemExit("no data set found")
    doc = _new_doc("supervised", argv)
    doc["section"] = "supervised" if losses == ["softmax"] else "supervised-" + "-".join(losses)
    doc.update({"dim": args.dim, "lr": args.lr, "losses": losses, "threads": args.threads, "seeds": seeds,
                "ngrams": ngram_list, "bucket": args.bucket, "tools": tools, "skipped": skipped,
                "datasets": {n: {k: v for k, v in m.items() if k != "sources"} for n, m in datasets.items()}})
    plan = [(name, n, loss, seed, tool) for name in datasets for n in ngram_list for loss in losses
            for seed in seeds for tool in tools]
    with _workdir(args) as work:
        def run_one(item):
            name, n, loss, seed, tool = item
            data = datasets[name]
            epochs = args.epochs or data["epochs"]
            data["epochs"] = epochs
            doc["datasets"][name]["epochs"] = epochs
            return run_supervised(tool, data, n, args.bucket, epochs, seed, args.threads, work / "runs",
                                  dim=args.dim, lr=args.lr, loss=loss, timeout=args.timeout)

        runs = _run_plan(plan, run_one, lambda item, record: describe_sup(record))
        return _done(doc, runs, out_dir, started, summ(runs))


def run_distributed_mode(args, argv: list[str]) -> int:
    from .distributed_bench import describe as describe_run, plan, run_entry, spark_available

    started = time.perf_counter()
    data_dir = Path(args.data) if args.data else default_data_dir()
    corpus_path = Path(args.corpus) if args.corpus else data_dir / (QUICK["corpus_name"] if args.quick
                                                                    else "en-mix.txt.gz")
    if not corpus_path.exists():
        raise SystemExit(f"corpus {corpus_path} not found (use --corpus or --data)")
    counts = lambda text, quick: [int(x) for x in _csv(text or ("1,2" if args.quick else quick))]  # noqa: E731
    settings = {"epochs": args.epochs or (QUICK["epochs"] if args.quick else 5), "dim": args.dim,
                "window": args.window, "negative": args.negative, "sample": args.sample, "min_count": args.min_count,
                "lr": args.lr, "seed": args.seed, "spark_master": args.spark_master, "spark_memory": args.spark_memory,
                "round_words": args.round_words, "combiner": args.combiner, "quality": args.quality}
    skipped = {}
    spark = not args.no_spark
    missing = spark_available() if spark else None
    if missing:
        skipped["spark"] = missing
        log(f"skipping spark: {missing}")
        spark = False
    entries = plan(counts(args.workers, "1,2,4,8"), counts(args.partitions, "1,2,4,8"), args.hs, spark)
    if args.only:
        wanted = args.only.split(",")
        entries = [entry for entry in entries if entry["name"] in wanted]
        if not entries:
            raise SystemExit(f"--only {args.only}: no such entries")
    out_dir = Path(args.out)
    with _workdir(args) as work:
        log(f"decompressing {corpus_path} into {work} ...")
        corpus = prepare_corpus(corpus_path, work, [args.tokens])[0]
        log(f"corpus: {corpus['tokens']:,} tokens, {corpus['lines']:,} lines -> {corpus['path']}")
        doc = _new_doc("distributed", argv)
        doc["versions"]["dask"] = _version_of("distributed")
        doc["versions"]["pyspark"] = _version_of("pyspark")
        doc.update({"settings": settings, "skipped": skipped, "entries": [e["name"] for e in entries],
                    "corpus": {"source": str(corpus_path), "tokens": corpus["tokens"], "lines": corpus["lines"],
                               "limit": args.tokens, "note": "decompressed once; every entry reads the same plain file"}})
        keep = out_dir / "vectors" if args.keep_vectors else None
        runs = _run_plan(entries, lambda entry: run_entry(entry, settings, corpus, work, data_dir, args.timeout, keep),
                         lambda entry, record: describe_run(record))
        return _done(doc, runs, out_dir, started)


def _version_of(package: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def _announce(path, markdown: str, runs: list[dict]) -> int:
    """Print the tables, say where they went; exit status 1 only when every run failed."""
    print(markdown)
    log(f"wrote {path} and {path.with_suffix('.md')}")
    return 1 if all(r.get("error") for r in runs) else 0


def run_results(args) -> int:
    paths = [Path(p) for p in args.json] or report.latest_jsons(Path(args.out))
    if not paths:
        raise SystemExit(f"no benchmark JSON given or found in {args.out}")
    updated = report.update_results(paths, Path(args.results))
    print(f"updated {args.results}: sections {', '.join(updated)} from {', '.join(map(str, paths))}")
    return 0


def quick_argvs(argv: list[str]) -> list[list[str]] | None:
    """``python -m bench --quick [options]``: the argv of each quick mode, in turn; None for any other command line."""
    if "--quick" not in argv or any(a in MODES for a in argv) or {"-h", "--help"} & set(argv):
        return None
    return [[mode, *argv] for mode in QUICK_MODES]


def run_all_quick(parser: argparse.ArgumentParser, argvs: list[list[str]]) -> int:
    """Every quick mode in turn (each checked first, so that a bad option stops before any run); 1 if any failed."""
    for one in argvs:
        _, unknown = parser.parse_known_args(one)
        if unknown:
            parser.error(f"{one[0]} does not take {' '.join(unknown)} (--quick with no mode passes its options "
                         f"to every mode: {', '.join(QUICK_MODES)})")
    failed = []
    for one in argvs:
        log(f"== python -m bench {shlex.join(one)}")
        try:
            status = main(one)
        except SystemExit as exc:  # e.g. a mode's data missing: say so, go on with the next mode
            log(f"{one[0]}: {exc}")
            status = exc.code if isinstance(exc.code, int) else 1
        if status:
            failed.append(one[0])
    log(f"quick runs: {len(argvs) - len(failed)} of {len(argvs)} modes passed"
        + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    every_quick = quick_argvs(argv)
    if every_quick:
        return run_all_quick(parser, every_quick)
    args = parser.parse_args(argv)
    if args.mode is None:
        parser.error(f"choose a mode ({', '.join(MODES)}), or --quick alone for every quick mode")
    try:
        if args.mode == "results":
            return run_results(args)
        if args.mode == "supervised":
            return run_supervised_mode(args, argv)
        if args.mode == "distributed":
            return run_distributed_mode(args, argv)
        return run_sgns_mode(args, argv)
    except KeyboardInterrupt:
        log("interrupted")
        return 130
