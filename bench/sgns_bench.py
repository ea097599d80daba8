"""Skip-gram runs: one measured subprocess per (tool, settings, corpus), then the quality of its vectors."""
from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

from .harness import record_child, run_child, summarise
from .quality import evaluate_vectors
from .tools import SGNS_TOOLS, Settings

# Numbers summarised per group (median, min, max).
SGNS_FIELDS = ("wall", "read", "compile", "train", "save", "startup", "words_per_sec", "words_per_sec_thread",
               "max_rss_mb", "cpu_seconds", "cpu_util", "vocab_size", "tool_words_per_sec_thread", "import",
               "total_train_time", "eval_seconds")
QUALITY_FIELDS = ("analogy", "analogy_coverage", "ws353", "ws353_oov", "men", "men_oov")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_sgns(tool_name: str, settings: Settings, corpus: dict, work: Path, data_dir: Path, *,
             evaluate: str, keep_dir: Path | None = None, timeout: float | None = None) -> dict:
    """Train once with ``tool_name`` and return the run's record (see README for the fields)."""
    tool = SGNS_TOOLS[tool_name]
    settings = tool.configure(settings)
    run_dir = work / "runs"
    run_dir.mkdir(parents=True, exist_ok=True)
    argv, vectors, watch = tool.command(settings, corpus["path"], run_dir)
    for stale in run_dir.glob(f"{tool.name}.*"):
        stale.unlink()
    record = {"tool": tool.name, "model": settings.model, "loss": settings.loss, "objective": settings.objective,
              "lr": settings.alpha,
              "threads": settings.threads, "epochs": settings.epochs,
              "corpus_tokens": corpus["tokens"], "corpus_limit": corpus.get("limit"),
              "command": tool.display(argv).replace(str(work) + os.sep, "WORK/"), "loadavg_before": os.getloadavg()[0]}
    child = run_child(argv, watch=watch, timeout=timeout)
    if not record_child(record, child):
        return record
    try:
        phases = tool.phases(child, run_dir)
    except (OSError, ValueError, KeyError) as exc:
        record["error"] = f"could not read the run's timings: {exc}; " + child.tail(8)
        return record
    phases.pop("train_end", None)
    record.update({key: value for key, value in phases.items()})
    words = corpus["tokens"] * settings.epochs
    if record.get("train"):
        record["train_timing"] = tool.timing
        seconds = record["train"]
    else:  # phases not found in the output: fall back to the whole command, and say so
        record["train_timing"] = "wall time of the whole command (phases not found)"
        seconds = child.wall_seconds
    record["words_per_sec"] = words / seconds
    record["words_per_sec_thread"] = record["words_per_sec"] / settings.threads
    known = sum(record.get(key) or 0.0 for key in ("read", "compile", "train", "save"))
    record["startup"] = max(0.0, child.wall_seconds - known) if record.get("train") else None
    keep = keep_dir / f"{tool.name}-t{settings.threads}-{corpus['tokens']}-{int(time.time())}.vec" if keep_dir else None
    return evaluate_and_keep(record, vectors, data_dir, evaluate, keep)


def evaluate_and_keep(record: dict, vectors: str, data_dir: Path, evaluate: str, keep: Path | None) -> dict:
    """The quality of a run's vectors (``evaluate``: all, similarity or none) into ``record``; the vectors are
    then moved to ``keep`` or removed."""
    if evaluate != "none":
        started = time.perf_counter()
        try:
            record["quality"] = evaluate_vectors(vectors, data_dir, analogies=(evaluate == "all"))
        except Exception as exc:  # a broken vectors file is a result, not a crash of the whole benchmark
            record["quality"] = {"error": f"{type(exc).__name__}: {exc}"}
        record["eval_seconds"] = time.perf_counter() - started
    if keep is not None and Path(vectors).exists():
        keep.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(vectors, keep)
        record["vectors"] = str(keep)
    else:
        Path(vectors).unlink(missing_ok=True)
    return record


def describe(record: dict) -> str:
    if record.get("error"):
        return f"{record['tool']}: FAILED ({record['error'].splitlines()[0]})"
    text = (f"{record['tool']}: wall {record['wall']:.1f} s, train {record.get('train') or float('nan'):.1f} s, "
            f"{record['words_per_sec']:,.0f} words/s ({record['words_per_sec_thread']:,.0f}/thread), "
            f"RSS {record['max_rss_mb']:,.0f} MB")
    quality = record.get("quality") or {}
    if "analogy" in quality:
        text += f", analogy {quality['analogy']:.3f}"
    if "ws353" in quality:
        text += f", WS353 {quality['ws353']:.3f}"
    if "men" in quality:
        text += f", MEN {quality['men']:.3f}"
    return text


def summarise_runs(runs: list[dict], keys: tuple[str, ...]) -> list[dict]:
    """One summary per distinct combination of ``keys`` (in first-seen order): n, failures, median/min/max."""
    groups: dict[tuple, list[dict]] = {}
    for run in runs:
        groups.setdefault(tuple(run.get(k) for k in keys), []).append(run)
    summaries = []
    for key, members in groups.items():
        ok = [r for r in members if not r.get("error")]
        summary = dict(zip(keys, key))
        summary.update({"runs": len(members), "failed": len(members) - len(ok)})
        if any(r.get("error") for r in members):
            summary["errors"] = sorted({r["error"].splitlines()[0] for r in members if r.get("error")})
        for field in SGNS_FIELDS:
            stat = summarise(r.get(field) for r in ok)
            if stat:
                summary[field] = stat
        for field in QUALITY_FIELDS:
            stat = summarise((r.get("quality") or {}).get(field) for r in ok)
            if stat:
                summary[field] = stat
        for field in ("model", "loss", "objective", "lr", "train_timing", "command"):
            values = [r.get(field) for r in ok + members if r.get(field)]
            if values:
                summary[field] = values[0]
        evaluators = {(r.get("quality") or {}).get("evaluator") for r in ok} - {None}
        if evaluators:
            summary["evaluator"] = ",".join(sorted(evaluators))
        summaries.append(summary)
    return summaries
