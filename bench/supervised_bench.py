"""Supervised (fastText-style classifier) runs: fastemb vs fastText (Python package and CLI).

Settings follow fastText's "Bag of Tricks" recipe: ``-dim 10 -lr 0.1 -minCount 1
-loss softmax`` (or another ``-loss``: softmax, ns, hs, ova, passed alike to every tool),
with ``-wordNgrams 1`` and with ``-wordNgrams 2 -bucket 10000000``,
5 epochs, or more where 5 undertrain (25 for TREC, 50 for 20NG), the same for every
tool. Training tokens/sec = tokens of the converted training file (labels not
counted, the same count for every tool) x epochs / train time; train time from
fastemb's ``--report`` (init_seconds + train_seconds: fastText's window
includes creating and initialising the matrices, fastemb reports that apart) and from
fastText's stderr (as for skip-gram, see bench/tools.py). Accuracy = P@1 on the test split: ``fastemb test`` / ``fasttext
test`` print it with 3 decimals, the Python package returns it exactly.
"""
from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

from .harness import record_child, run_child, summarise
from .tools import BENCH_DIR, find_fasttext_cli, _fasttext_phases

SUPERVISED_TOOLS = ("fastemb", "fasttext", "fasttext-cli")
FIELDS = ("accuracy", "wall", "read", "compile", "train", "save", "startup", "tokens_per_sec",
          "tokens_per_sec_thread", "max_rss_mb", "cpu_util", "vocab_size", "test_wall")


def supervised_available(tool: str) -> str | None:
    from importlib.util import find_spec
    if tool == "fastemb":
        return None if find_spec("fastemb") else "fastemb is not importable"
    if tool == "fasttext":
        return None if find_spec("fasttext") else "the fasttext Python package is not installed"
    if tool == "fasttext-cli":
        return None if find_fasttext_cli() else "no fasttext binary"
    return f"unknown tool {tool!r}"


def _precision(text: str) -> float | None:
    found = re.search(r"^P@1\s+([0-9.]+)", text, re.M)
    return float(found.group(1)) if found else None


def supervised_commands(tool: str, data: dict, ngrams: int, bucket: int, epochs: int, seed: int, threads: int,
                        work: Path, dim: int = 10, lr: float = 0.1,
                        loss: str = "softmax") -> tuple[list[str], list[str] | None, str]:
    """(training argv, test argv or None when the training run tests too, command as displayed) of one run."""
    report_path = work / f"{tool}.json"
    if tool == "fastemb":
        model = work / f"{tool}.npz"
        argv = [sys.executable, "-m", "fastemb.cli", "supervised", data["train"], "-o", str(model),
                "--dim", str(dim), "--lr", f"{lr:g}", "--epochs", str(epochs), "--min-count", "1",
                "--word-ngrams", str(ngrams), "--loss", loss, "--threads", str(threads), "--seed", str(seed),
                "--report", str(report_path), "--quiet"] + (["--buckets", str(bucket)] if ngrams > 1 else [])
        return argv, [sys.executable, "-m", "fastemb.cli", "test", str(model), data["test"]], \
            "fastemb " + " ".join(argv[3:])
    if tool == "fasttext-cli":
        prefix = work / tool
        argv = [find_fasttext_cli(), "supervised", "-input", data["train"], "-output", str(prefix), "-dim", str(dim),
                "-lr", f"{lr:g}", "-epoch", str(epochs), "-minCount", "1", "-wordNgrams", str(ngrams),
                "-bucket", str(bucket), "-loss", loss, "-thread", str(threads), "-seed", str(seed),
                "-verbose", "2"]
        return argv, [find_fasttext_cli(), "test", str(prefix) + ".bin", data["test"]], \
            "fasttext " + " ".join(argv[1:])
    argv = [sys.executable, str(BENCH_DIR / "runners" / "fasttext_runner.py"), "supervised", data["train"], data["test"],
            str(work / f"{tool}.bin"), str(report_path), "--dim", str(dim), "--lr", f"{lr:g}", "--epochs", str(epochs),
            "--min-count", "1", "--word-ngrams", str(ngrams), "--bucket", str(bucket), "--loss", loss,
            "--threads", str(threads), "--seed", str(seed)]
    return argv, None, "python bench/runners/fasttext_runner.py " + " ".join(argv[2:])


def run_supervised(tool: str, data: dict, ngrams: int, bucket: int, epochs: int, seed: int, threads: int,
                   work: Path, dim: int = 10, lr: float = 0.1, loss: str = "softmax",
                   timeout: float | None = None) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    for stale in work.glob(f"{tool}.*"):
        stale.unlink()
    record = {"tool": tool, "dataset": data["name"], "ngrams": ngrams, "bucket": bucket if ngrams > 1 else 0,
              "loss": loss, "epochs": epochs, "seed": seed, "threads": threads, "train_tokens": data["train_tokens"],
              "loadavg_before": os.getloadavg()[0]}
    report_path = work / f"{tool}.json"
    argv, test_argv, record["command"] = supervised_commands(tool, data, ngrams, bucket, epochs, seed, threads,
                                                             work, dim=dim, lr=lr, loss=loss)
    root = str(BENCH_DIR.parent) + os.sep
    record["command"] = record["command"].replace(str(work) + os.sep, "WORK/").replace(root, "")
    child = run_child(argv, timeout=timeout)
    if not record_child(record, child):
        return record
    try:
        if tool == "fastemb":
            report = json.loads(report_path.read_text())
            # fastText's train window (end of reading -> last progress line) includes creating and
            # initialising the matrices; fastemb times that separately (init_seconds), so add it back.
            init = report.get("init_seconds") or 0.0
            record.update({"read": report["read_seconds"], "compile": report["compile_seconds"],
                           "train": report["train_seconds"] + init, "train_loop": report["train_seconds"],
                           "init": init, "save": report["save_seconds"],
                           "vocab_size": report["vocab_size"], "tool_words_per_sec": report.get("words_per_sec")})
        else:
            phases = _fasttext_phases(child, call_marker=(tool == "fasttext"))
            end = phases.pop("train_end")
            record.update(phases)
            if tool == "fasttext":
                report = json.loads(report_path.read_text())
                record.update({"save": report["save_seconds"], "accuracy": report["precision_at_1"],
                               "test_examples": report["test_examples"], "test_wall": report["test_seconds"],
                               "import": report["import_seconds"]})
                record.pop("startup_to_call", None)
            else:
                record["save"] = None if end is None else child.wall_seconds - end
    except (OSError, ValueError, KeyError) as exc:
        record["error"] = f"could not read the run's timings: {exc}; " + child.tail(8)
        return record
    if test_argv is not None:
        tested = run_child(test_argv, timeout=timeout)
        record["test_wall"] = tested.wall_seconds
        record["accuracy"] = _precision(tested.stdout.text)
        if tested.returncode != 0 or record["accuracy"] is None:
            record["error"] = f"test failed (exit status {tested.returncode}); " + tested.tail(8)
    if record.get("train"):
        record["tokens_per_sec"] = data["train_tokens"] * epochs / record["train"]
        record["tokens_per_sec_thread"] = record["tokens_per_sec"] / threads
        known = sum(record.get(k) or 0.0 for k in ("read", "compile", "train", "save"))
        record["startup"] = max(0.0, record["wall"] - known)
    for path in work.glob(f"{tool}.*"):
        path.unlink()
    return record


def describe(record: dict) -> str:
    head = f"{record['dataset']} n={record['ngrams']} {record.get('loss', 'softmax')} seed {record['seed']} {record['tool']}"
    if record.get("error"):
        return f"{head}: FAILED ({record['error'].splitlines()[0]})"
    return (f"{head}: P@1 {record.get('accuracy', float('nan')):.4f}, train {record.get('train') or float('nan'):.2f} s, "
            f"{record.get('tokens_per_sec') or float('nan'):,.0f} tokens/s, wall {record['wall']:.1f} s, "
            f"RSS {record['max_rss_mb']:,.0f} MB")


def summarise_runs(runs: list[dict]) -> list[dict]:
    groups: dict[tuple, list[dict]] = {}
    for run in runs:
        groups.setdefault((run["dataset"], run["ngrams"], run.get("loss", "softmax"), run["tool"]), []).append(run)
    summaries = []
    for (dataset, ngrams, loss, tool), members in groups.items():
        ok = [r for r in members if not r.get("error")]
        summary = {"dataset": dataset, "ngrams": ngrams, "loss": loss, "tool": tool, "epochs": members[0]["epochs"],
                   "bucket": members[0]["bucket"], "runs": len(members), "failed": len(members) - len(ok),
                   "command": (ok or members)[0].get("command")}
        if len(ok) < len(members):
            summary["errors"] = sorted({r["error"].splitlines()[0] for r in members if r.get("error")})
        for field in FIELDS:
            stat = summarise(r.get(field) for r in ok)
            if stat:
                summary[field] = stat
        summaries.append(summary)
    return summaries
