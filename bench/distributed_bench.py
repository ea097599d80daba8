"""``python -m bench distributed``: fastemb on a local Dask cluster of 1, 2, 4, 8 workers against one fastemb
process, and Spark MLlib's Word2Vec at 1, 2, 4, 8 partitions: words/sec of the whole job and quality.

Entries, run one at a time (each its own subprocess):

* ``fastemb``: one process, ``--threads 1`` (the reference);
* ``cluster-W``: ``fastemb skipgram --cluster local:W --threads 1`` (W worker processes of one thread);
* ``fastemb-hs``, ``cluster-W-hs`` (with ``--hs``): the same with ``--loss hs``, beside MLlib, which trains
  skip-gram with hierarchical softmax only;
* ``spark-P``: MLlib's Word2Vec with ``numPartitions`` P on ``local[2]`` (bench/runners/spark_runner.py).

Words/sec = corpus tokens x epochs / train seconds: fastemb's ``train_seconds`` (for a cluster run every
round, its communication and merges included), MLlib's ``fit()`` (its vocabulary pass included). Quality:
bench/quality.py on the saved text vectors, the same evaluator for every entry. A cluster run's report
adds its per-round figures: seconds of compute, communication and merge, bytes to and from the workers.
"""
from __future__ import annotations

import json
import os
import statistics
import sys
from pathlib import Path

from .harness import record_child, run_child
from .sgns_bench import evaluate_and_keep

BENCH_DIR = Path(__file__).resolve().parent


def spark_available() -> str | None:
    from importlib.util import find_spec
    if not find_spec("pyspark"):
        return "pyspark is not installed"
    return None


def plan(workers: list[int], partitions: list[int], hs: bool, spark: bool) -> list[dict]:
    """The entries in the order they run."""
    entries = [{"name": "fastemb", "kind": "fastemb", "workers": 0, "loss": "ns"}]
    entries += [{"name": f"cluster-{w}", "kind": "fastemb", "workers": w, "loss": "ns"} for w in workers]
    if hs:
        entries += [{"name": "fastemb-hs", "kind": "fastemb", "workers": 0, "loss": "hs"}]
        entries += [{"name": f"cluster-{w}-hs", "kind": "fastemb", "workers": w, "loss": "hs"} for w in workers]
    if spark:
        entries += [{"name": f"spark-{p}", "kind": "spark", "partitions": p, "loss": "hs"} for p in partitions]
    return entries


def command(entry: dict, settings: dict, corpus: str, work: Path) -> tuple[list[str], str, Path]:
    """(argv, vectors path, report path) of an entry."""
    vectors, report = str(work / f"{entry['name']}.vec"), work / f"{entry['name']}.json"
    s = settings
    if entry["kind"] == "spark":
        argv = [sys.executable, str(BENCH_DIR / "runners" / "spark_runner.py"), corpus, vectors, str(report),
                "--partitions", str(entry["partitions"]), "--master", s["spark_master"],
                "--driver-memory", s["spark_memory"], "--dim", str(s["dim"]), "--window", str(s["window"]),
                "--min-count", str(s["min_count"]), "--epochs", str(s["epochs"]), "--lr", f"{s['lr']:g}",
                "--seed", str(s["seed"])]
        return argv, vectors, report
    argv = [sys.executable, "-m", "fastemb.cli", "skipgram", corpus, "-o", vectors, "--report", str(report),
            "--quiet", "--dim", str(s["dim"]), "--window", str(s["window"]), "--sample", f"{s['sample']:g}",
            "--min-count", str(s["min_count"]), "--epochs", str(s["epochs"]), "--lr", f"{s['lr']:g}",
            "--seed", str(s["seed"]), "--threads", "1"]
    argv += ["--loss", "hs"] if entry["loss"] == "hs" else ["--negative", str(s["negative"])]
    if entry["workers"]:
        argv += ["--cluster", f"local:{entry['workers']}"]
        argv += ["--combiner", s["combiner"]] if s.get("combiner") else []
        argv += ["--round-words", str(s["round_words"])] if s.get("round_words") else []
    return argv, vectors, report


def _round_figures(report: dict) -> dict:
    """Medians over a cluster run's rounds: seconds of each part, bytes each way, rows changed."""
    rounds = report.get("distributed", {}).get("rounds_done", [])
    if not rounds:
        return {}
    median = lambda key: statistics.median(r[key] for r in rounds)  # noqa: E731
    return {"rounds": len(rounds), "round_seconds": median("seconds"), "compute_seconds": median("compute_seconds"),
            "communicate_seconds": median("communicate_seconds"), "merge_seconds": median("merge_seconds"),
            "apply_seconds": median("apply_seconds"), "diff_seconds": median("diff_seconds"),
            "bytes_to_workers": median("bytes_to_workers"),
            "bytes_from_workers": median("bytes_from_workers"), "round_words": median("words"),
            "rows_changed": [statistics.median(r["rows_changed"][i] for r in rounds) for i in (0, 1)],
            "combiner": report["distributed"].get("combiner")}


def run_entry(entry: dict, settings: dict, corpus: dict, work: Path, data_dir: Path, timeout: float | None,
              keep_dir: Path | None = None) -> dict:
    """Run one entry (its files in ``work``/runs) and return its record: timings, round figures, quality."""
    runs = work / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    argv, vectors, report_path = command(entry, settings, corpus["path"], runs)
    shown = " ".join(argv[3:] if entry["kind"] == "fastemb" else argv[1:])
    shown = shown.replace(str(runs) + os.sep, "WORK/").replace(corpus["path"], "CORPUS")
    record = {**entry, "command": ("fastemb " if entry["kind"] == "fastemb" else "python ")
              + shown.replace(str(BENCH_DIR.parent) + os.sep, ""), "loadavg_before": os.getloadavg()[0]}
    child = run_child(argv, timeout=timeout)
    if not record_child(record, child):
        return record
    try:
        report = json.loads(report_path.read_text())
    except (OSError, ValueError) as exc:
        record["error"] = f"no report: {exc}; " + child.tail(8)
        return record
    words = corpus["tokens"] * settings["epochs"]
    record.update(train=report["train_seconds"], read=report["read_seconds"], vocab_size=report.get("vocab_size"),
                  words_per_sec=words / report["train_seconds"], rounds=_round_figures(report))
    return evaluate_and_keep(record, vectors, data_dir, settings["quality"],
                             keep_dir / f"{entry['name']}.vec" if keep_dir else None)


def describe(record: dict) -> str:
    if record.get("error"):
        return f"{record['name']}: FAILED ({record['error'].splitlines()[0]})"
    quality = record.get("quality") or {}
    text = f"{record['name']}: train {record['train']:.1f} s, {record['words_per_sec']:,.0f} words/s"
    for key in ("analogy", "ws353", "men"):
        if key in quality:
            text += f", {key} {quality[key]:.3f}"
    return text
