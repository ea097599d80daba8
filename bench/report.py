"""Markdown tables, the thread-scaling plot, the machine description, and regenerating bench/RESULTS.md.

``update_results(json_paths)`` rewrites the sections of RESULTS.md between
``<!-- bench:SECTION:start -->`` and ``<!-- bench:SECTION:end -->`` (SECTION = machine,
sgns, supervised, threads, size; runs with CBOW or hierarchical-softmax entries have
their own, e.g. sgns-cbow, sgns-hs, supervised-hs) from the benchmark JSON files, so
fresh full-run figures replace the old ones without touching the prose around them.
"""
from __future__ import annotations

import json
import math
import os
import platform
import re
import shutil
import subprocess
from pathlib import Path

RESULTS_MD = Path(__file__).resolve().parent / "RESULTS.md"
MODES = ("sgns", "supervised", "threads", "size", "distributed")


# ---------------------------------------------------------------------------------------------
# The machine

def machine_info() -> dict:
    info = {"platform": platform.platform(), "cpu_count": os.cpu_count()}
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        text = ""
    wanted = {"Model name": "model", "CPU(s)": "cpus", "Thread(s) per core": "threads_per_core",
              "Core(s) per socket": "cores_per_socket", "Socket(s)": "sockets", "CPU max MHz": "max_mhz",
              "L1d cache": "l1d", "L1i cache": "l1i", "L2 cache": "l2", "L3 cache": "l3",
              "Hypervisor vendor": "hypervisor", "Flags": "flags"}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in wanted:
            info[wanted[key.strip()]] = value.strip()
    flags = info.pop("flags", "").split()
    info["simd"] = " ".join(f for f in ("sse4_2", "avx", "avx2", "fma", "avx512f") if f in flags)
    try:
        with open("/proc/meminfo") as handle:
            kb = int(re.search(r"MemTotal:\s+(\d+)", handle.read()).group(1))
        info["memory_gb"] = round(kb / 1024 ** 2, 1)
    except (OSError, AttributeError):
        pass
    return info


def render_machine(doc: dict) -> str:
    m, v = doc.get("machine", {}), doc.get("versions", {})
    cpu = (f"{m.get('model', '?')}, {m.get('cpus', m.get('cpu_count', '?'))} CPUs "
           f"({m.get('sockets', '?')} socket x {m.get('cores_per_socket', '?')} cores x "
           f"{m.get('threads_per_core', '?')} threads)")
    if m.get("hypervisor"):
        cpu += f", virtualised ({m['hypervisor']})"
    lines = [f"* CPU: {cpu}; SIMD: {m.get('simd') or '?'}",
             f"* Caches: L1d {m.get('l1d', '?')}, L1i {m.get('l1i', '?')}, L2 {m.get('l2', '?')}, "
             f"L3 {m.get('l3', '?')}; memory {m.get('memory_gb', '?')} GB",
             f"* OS: {m.get('platform', '?')}",
             "* Versions: " + ", ".join(f"{k} {val}" for k, val in v.items() if val and k not in
                                        ("word2vec-c", "fasttext-cli")),
             ]
    for key in ("word2vec-c", "fasttext-cli"):
        if v.get(key):
            lines.append(f"* {key}: {v[key]}")
    lines.append(f"* Measured {doc.get('started', '?')} (load average {doc.get('loadavg_start', '?')} at the start, "
                 f"{doc.get('loadavg_end', '?')} at the end; other work on the machine shows up as noise)")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Number formatting

def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _fmt_value(value: float, kind: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if kind == "rate":
        return f"{value / 1000:,.0f}k"
    if kind == "sec":
        return f"{value:.2f}" if value < 10 else f"{value:.1f}" if value < 100 else f"{value:,.0f}"
    if kind == "mb":
        return f"{value:,.0f}"
    if kind == "ratio":
        return f"{value:.2f}"
    if kind == "acc":
        return f"{value:.3f}"
    if kind == "pct":
        return f"{100 * value:.1f}%"
    if kind == "int":
        return f"{value:,.0f}"
    return f"{value:g}"


def fmt(stat: dict | None, kind: str, spread: bool = True) -> str:
    """``median (min–max)`` of a summary, or just the median when all runs agree or there is one run."""
    if not stat:
        return "–"
    text = _fmt_value(stat["median"], kind)
    if spread and stat.get("n", 1) > 1:
        low, high = _fmt_value(stat["min"], kind), _fmt_value(stat["max"], kind)
        if low != high:
            text += f" ({low}–{high})"
    return text


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _failures(summaries: list[dict]) -> list[str]:
    out = []
    for s in summaries:
        if s.get("failed"):
            keys = ("dataset", "ngrams", "loss", "tool") if "dataset" in s else ("tool", "threads", "corpus_tokens")
            label = " ".join(str(s[k]) for k in keys if k in s)
            out.append(f"* **{label}**: {s['failed']} of {s['runs']} runs failed: " + "; ".join(s.get("errors", [])))
    return out


def _load_note(doc: dict) -> str:
    """How busy the machine was: the 1-minute load average just before each run (our own last run included)."""
    loads = sorted(r["loadavg_before"] for r in doc.get("runs", []) if r.get("loadavg_before") is not None)
    if not loads:
        return ""
    cores = doc.get("machine", {}).get("cpu_count") or 1
    note = (f"Load average before the runs: median {loads[len(loads) // 2]:.1f}, max {loads[-1]:.1f} "
            f"on {cores} CPUs (a benchmark's own previous run contributes up to its thread count).")
    if loads[len(loads) // 2] > cores + 0.5:
        note += (" **The machine was busy with other work: treat these speeds as noise** (CPU/wall well "
                 "below the thread count is the sign).")
    return note


def _objectives(doc: dict) -> list[str]:
    """The runs' objectives in order of appearance ('' = skip-gram with negative sampling; JSON without them: '')."""
    return list(dict.fromkeys(run.get("objective", "") for run in doc.get("runs", []))) or [""]


def _title(doc: dict) -> str:
    """'Skip-gram', or e.g. 'Skip-gram and CBOW, negative sampling' when CBOW or hierarchical softmax ran."""
    objectives = _objectives(doc)
    if objectives == [""]:
        return "Skip-gram"
    models = dict.fromkeys("CBOW" if o.startswith("cbow") else "Skip-gram" for o in objectives)
    losses = dict.fromkeys("hierarchical softmax" if o.endswith("hs") else "negative sampling" for o in objectives)
    return " and ".join(models) + ", " + " and ".join(losses)


def _settings_line(settings: dict, runs: list[dict] = ()) -> str:
    objectives = list(dict.fromkeys(run.get("objective", "") for run in runs))
    negative = f"negative {settings['negative']}"
    if any(o.endswith("hs") for o in objectives):
        negative += " (none with hierarchical softmax)"
    lrs = {("CBOW" if run.get("model") == "cbow" else "skip-gram"): run["lr"] for run in runs if run.get("lr")}
    if len(set(lrs.values())) > 1:
        lr = "lr " + ", ".join(f"{value:g} {model}" for model, value in lrs.items())
    else:
        lr = f"lr {next(iter(lrs.values()), settings['lr'] or 0.025):g}"
    cbow_sum = ", CBOW sums the context rows" if any("sum" in o for o in objectives) else ""
    return (f"dim {settings['dim']}, window {settings['window']}, {negative}, "
            f"sample {settings['sample']:g}, min-count {settings['min_count']}, epochs {settings['epochs']}, "
            f"{lr} → {settings['min_lr']:g}{cbow_sum}, threads {settings['threads']}")


def _header(doc: dict, title: str) -> list[str]:
    return [f"### {title}", "",
            f"`{doc['command']}` — {doc.get('started', '?')}, {doc.get('elapsed_seconds', 0) / 60:.1f} min; "
            f"load average {doc.get('loadavg_start', '?')} → {doc.get('loadavg_end', '?')}", ""]


def _corpus_line(doc: dict) -> str:
    corpus = doc["corpus"]
    return (f"Corpus: `{corpus['source']}` decompressed once to plain text ({corpus['tokens']:,} tokens, "
            f"{corpus['lines']:,} lines); every tool reads that same file, so reading times exclude gunzip "
            f"for everyone.")


SGNS_TIMING_NOTE = (
    "Train words/s = corpus tokens × epochs / train seconds, with the same token count for every tool. "
    "Train seconds: fastemb from its `--report`; gensim from timing `train()` in `bench/runners/gensim_runner.py`; "
    "word2vec C from its output (first progress line → output file created); fastText from its stderr "
    "(`Number of labels` → final progress line, which it polls every 0.1 s). "
    "Read = vocabulary pass and encoding (word2vec C: process start → first progress line, which includes filling "
    "its 10⁸-entry negative-sampling table when it samples negatives, also the reason for its ~400 MB extra RSS; "
    "fastText: → end of "
    "reading). Start-up/exit = wall − read − compile − train − save (interpreter start, imports, freeing). "
    "Peak RSS and CPU time come from `wait4()` on each child. Quality is measured on the saved text vectors "
    "by one evaluator for all tools: Google analogies 3CosAdd over the 30,000 most frequent words "
    "(questions with a word outside them are skipped; 'answered' is the share kept), WS353 and MEN Spearman ρ.")


def render_sgns(doc: dict) -> str:
    s = doc["settings"]
    lines = _header(doc, f"{_title(doc)}: {doc['corpus']['tokens']:,} tokens × {_n(s['epochs'], 'epoch')}, "
                         f"{s['threads']} threads")
    lines += [_corpus_line(doc), "", f"Settings: {_settings_line(s, doc.get('runs', []))}. "
                                     f"{_n(doc['repeat'], 'run')} per tool, interleaved "
                                     "(A B C … A B C …); medians, (min–max) when they differ.", ""]
    rows = []
    for t in doc["summary"]:
        rows.append([t["tool"], fmt(t.get("words_per_sec"), "rate"), fmt(t.get("words_per_sec_thread"), "rate", False),
                     fmt(t.get("train"), "sec"), fmt(t.get("read"), "sec", False), fmt(t.get("compile"), "sec", False),
                     fmt(t.get("startup"), "sec", False), fmt(t.get("save"), "sec", False), fmt(t.get("wall"), "sec"),
                     fmt(t.get("max_rss_mb"), "mb"), fmt(t.get("cpu_util"), "ratio", False)])
    lines.append(_table(["tool", "train words/s", "per thread", "train s", "read s", "compile s", "start-up/exit s",
                         "save s", "wall s", "peak RSS MB", "CPU/wall"], rows))
    if any("analogy" in t or "ws353" in t for t in doc["summary"]):
        rows = [[t["tool"], fmt(t.get("analogy"), "acc"), fmt(t.get("analogy_coverage"), "pct", False),
                 fmt(t.get("ws353"), "acc"), fmt(t.get("men"), "acc"), fmt(t.get("vocab_size"), "int", False)]
                for t in doc["summary"]]
        lines += ["", _table(["tool", "Google analogy (3CosAdd, top 30k)", "answered", "WS353 ρ", "MEN ρ", "vocab"],
                             rows)]
        evaluators = sorted({t.get("evaluator") for t in doc["summary"] if t.get("evaluator")})
        lines += ["", f"Evaluator: {', '.join(evaluators) or '?'}."]
    lines += ["", SGNS_TIMING_NOTE, "", _load_note(doc), ""]
    lines += _failures(doc["summary"])
    lines += _not_run(doc)
    lines += ["", "<details><summary>Commands</summary>", ""]
    lines += [f"* {t['tool']}: `{t.get('command', '?')}`" for t in doc["summary"]]
    lines += ["", "</details>"]
    return "\n".join(lines).replace("\n\n\n", "\n\n").strip() + "\n"


def render_threads(doc: dict) -> str:
    s = doc["settings"]
    counts = doc["thread_counts"]
    title = "" if _title(doc) == "Skip-gram" else f" ({_title(doc)})"
    lines = _header(doc, f"Thread scaling{title}: {doc['corpus']['tokens']:,} tokens × {_n(s['epochs'], 'epoch')}")
    lines += [_corpus_line(doc), "", f"Settings: {_settings_line(s, doc.get('runs', [])).rsplit(', threads', 1)[0]}. "
                                     f"{_n(doc['repeat'], 'run')} per point, interleaved; median train words/s, "
                                     "per thread in brackets; speed-up = last / 1 thread.", ""]
    by_tool: dict[str, dict[int, dict]] = {}
    for t in doc["summary"]:
        by_tool.setdefault(t["tool"], {})[t["threads"]] = t
    rows = []
    for tool, points in by_tool.items():
        row = [tool]
        for n in counts:
            p = points.get(n, {})
            row.append(f"{fmt(p.get('words_per_sec'), 'rate', False)} ({fmt(p.get('words_per_sec_thread'), 'rate', False)})")
        first, last = points.get(counts[0], {}).get("words_per_sec"), points.get(counts[-1], {}).get("words_per_sec")
        row.append(f"{last['median'] / first['median']:.2f}×" if first and last else "–")
        row.append(fmt(points.get(counts[-1], {}).get("max_rss_mb"), "mb", False))
        rows.append(row)
    lines.append(_table(["tool"] + [f"{n} thread{'s' if n > 1 else ''}" for n in counts] + ["speed-up", "RSS MB"],
                        rows))
    if doc.get("plot_link"):
        lines += ["", f"![train words/s against threads]({doc['plot_link']})"]
    elif doc.get("plot"):
        lines += ["", f"Plot: `{doc['plot']}`"]
    lines += ["", SGNS_TIMING_NOTE.split(" Quality")[0], "", _load_note(doc), ""] + _failures(doc["summary"])
    return "\n".join(lines).strip() + "\n"


def _exponent(a: float, b: float, na: float, nb: float) -> float | None:
    if not a or not b or na == nb:
        return None
    return math.log(b / a) / math.log(nb / na)


def render_size(doc: dict) -> str:
    s = doc["settings"]
    title = "" if _title(doc) == "Skip-gram" else f" ({_title(doc)})"
    lines = _header(doc, f"Corpus size{title}: prefixes of {doc['corpus']['tokens']:,} tokens, "
                         f"{_n(s['epochs'], 'epoch')}, {s['threads']} threads")
    lines += [_corpus_line(doc), "", f"Settings: {_settings_line(s, doc.get('runs', []))}. Prefixes are whole lines. "
                                     f"{_n(doc['repeat'], 'run')} per point, interleaved; medians. Growth exponent k: "
                                     "cost ∝ tokens^k between the smallest and the largest prefix "
                                     "(1 = linear; train k > 1 means words/s falls as the vocabulary grows).", ""]
    rows = []
    by_tool: dict[str, list[dict]] = {}
    for t in doc["summary"]:
        by_tool.setdefault(t["tool"], []).append(t)
    for tool, points in by_tool.items():
        points.sort(key=lambda p: p["corpus_tokens"])
        for p in points:
            rows.append([tool, f"{p['corpus_tokens']:,}", fmt(p.get("vocab_size"), "int", False),
                         fmt(p.get("read"), "sec", False), fmt(p.get("train"), "sec"),
                         fmt(p.get("words_per_sec"), "rate"), fmt(p.get("wall"), "sec", False),
                         fmt(p.get("max_rss_mb"), "mb", False), fmt(p.get("cpu_util"), "ratio", False)])
    lines.append(_table(["tool", "tokens", "vocab", "read s", "train s", "train words/s", "wall s", "peak RSS MB",
                         "CPU/wall"], rows))
    rows = []
    for tool, points in by_tool.items():
        a, b = points[0], points[-1]

        def k(field):
            fa, fb = a.get(field), b.get(field)
            value = _exponent(fa and fa["median"], fb and fb["median"], a["corpus_tokens"], b["corpus_tokens"])
            return "–" if value is None else f"{value:.2f}"
        rows.append([tool, k("read"), k("train"), k("wall"), k("max_rss_mb"), k("vocab_size")])
    lines += ["", _table(["tool", "k read", "k train", "k wall", "k RSS", "k vocab"], rows), "",
              _load_note(doc), ""]
    lines += _failures(doc["summary"])
    return "\n".join(lines).strip() + "\n"


def render_supervised(doc: dict) -> str:
    losses = doc.get("losses", ["softmax"])
    lines = [f"### Supervised classification (fastText Bag of Tricks settings)", "",
             f"`{doc['command']}` — {doc.get('started', '?')}, {doc.get('elapsed_seconds', 0) / 60:.1f} min; "
             f"load average {doc.get('loadavg_start', '?')} → {doc.get('loadavg_end', '?')}", "",
             f"dim {doc['dim']}, lr {doc['lr']:g}, minCount 1, {' / '.join(losses)} loss (`-loss`), "
             f"{doc['threads']} threads; seeds "
             f"{', '.join(map(str, doc['seeds']))} (medians, (min–max)); tools interleaved per seed. Data converted "
             "by `bench/datasets.py` (lower-cased, tokens `[^\\W_]+(?:'[^\\W_]+)*`, train shuffled). "
             "Tokens/s = training tokens (labels excluded, same count for every tool) × epochs / train seconds; "
             "train seconds include creating and initialising the matrices for every tool (fastText's stderr "
             "window cannot separate them; fastemb's `init_seconds` is added to its `train_seconds`). "
             "P@1 of `fastemb test` / `fasttext test` has 3 decimals.", ""]
    for name, meta in doc["datasets"].items():
        lines += [f"**{name}**: {meta['train_docs']:,} train / {meta['test_docs']:,} test documents, "
                  f"{meta['labels']} labels, {meta['train_tokens']:,} training tokens, {_n(meta['epochs'], 'epoch')}", ""]
        rows = []
        for t in doc["summary"]:
            if t["dataset"] != name:
                continue
            config = "unigrams" if t["ngrams"] == 1 else f"{t['ngrams']}-grams, {t['bucket']:,} buckets"
            if len(losses) > 1:
                config += f", {t.get('loss', 'softmax')}"
            rows.append([config, t["tool"], fmt(t.get("accuracy"), "acc"), fmt(t.get("train"), "sec"),
                         fmt(t.get("tokens_per_sec"), "rate"), fmt(t.get("tokens_per_sec_thread"), "rate", False),
                         fmt(t.get("read"), "sec", False), fmt(t.get("wall"), "sec", False),
                         fmt(t.get("max_rss_mb"), "mb"), fmt(t.get("vocab_size"), "int", False)])
        lines += [_table(["features", "tool", "test P@1", "train s", "train tokens/s", "per thread", "read s",
                          "wall s", "peak RSS MB", "vocab"], rows), ""]
    lines += [_load_note(doc), ""] + _failures(doc["summary"])
    lines += _not_run(doc)
    lines += ["", "<details><summary>Commands (first seed)</summary>", ""]
    lines += [f"* {t['dataset']} {t['tool']}: `{t.get('command', '?')}`" for t in doc["summary"]]
    lines += ["", "</details>"]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def _not_run(doc: dict) -> list[str]:
    """The line naming the entries a benchmark skipped, and why (none when it skipped none)."""
    skipped = doc.get("skipped") or {}
    return ["* not run: " + "; ".join(f"{k} ({v})" for k, v in skipped.items())] if skipped else []


def render_distributed(doc: dict) -> str:
    s = doc["settings"]
    lines = _header(doc, f"Distributed: fastemb on a Dask cluster and Spark MLlib, {doc['corpus']['tokens']:,} "
                         f"tokens × {_n(s['epochs'], 'epoch')}")
    prefix = f" Its first ~{doc['corpus']['limit']:,} tokens (whole lines)." if doc["corpus"].get("limit") else ""
    lines += [_corpus_line(doc).replace("every tool", "every entry") + prefix, "",
              f"Settings: dim {s['dim']}, window {s['window']}, negative {s['negative']} (none with hierarchical "
              f"softmax), sample {s['sample']:g} (MLlib has no subsampling), min-count {s['min_count']}, lr "
              f"{s['lr']:g}; fastemb entries: one thread per process, `cluster-W` = `--cluster local:W`, "
              f"combiner {s.get('combiner') or 'average (the default)'}, round words "
              f"{s.get('round_words') or 'the default'}; `spark-P` = MLlib Word2Vec, `numPartitions` P, master "
              f"{s['spark_master']}. One run per entry, one after another; CORPUS in the commands is that file.", ""]
    runs = [r for r in doc["runs"] if not r.get("error")]
    base = {r["loss"]: r for r in runs if r["name"] in ("fastemb", "fastemb-hs")}
    rows = []
    for r in runs:
        q, ref = r.get("quality") or {}, base.get(r["loss"])
        ref_q = (ref or {}).get("quality") or {}
        speed = f"{r['words_per_sec'] / ref['words_per_sec']:.2f}×" if ref else "–"
        delta = " / ".join(f"{q[k] - ref_q[k]:+.3f}" if k in q and k in ref_q and r is not ref else "–"
                           for k in ("analogy", "ws353", "men"))
        rows.append([r["name"], r.get("loss", ""), fmt({"median": r["words_per_sec"]}, "rate"), speed,
                     fmt({"median": r["train"]}, "sec"), fmt({"median": r["wall"]}, "sec"),
                     fmt({"median": q.get("analogy")}, "acc"), fmt({"median": q.get("ws353")}, "acc"),
                     fmt({"median": q.get("men")}, "acc"), delta])
    lines.append(_table(["entry", "loss", "train words/s", "vs one process", "train s", "wall s",
                         "Google analogy", "WS353 ρ", "MEN ρ", "Δ vs one process (analogy / WS353 / MEN)"], rows))
    rounds = [r for r in runs if r.get("rounds")]
    if rounds:
        lines += ["", "Cluster rounds (medians over a run's rounds): seconds of training on the slowest worker, "
                      "of communication (sending the model, scheduling, returning the deltas), of the workers' "
                      "own sync (applying the model's changed rows, finding the rows they changed) and of the "
                      "driver's merge; MB per "
                      "round to all workers and back; rows changed (input / output table).", ""]
        rows = [[r["name"], f"{r['rounds']['rounds']:,}", fmt({"median": r["rounds"]["round_words"]}, "int"),
                 fmt({"median": r["rounds"]["round_seconds"]}, "sec"), fmt({"median": r["rounds"]["compute_seconds"]}, "sec"),
                 fmt({"median": r["rounds"]["communicate_seconds"]}, "sec"),
                 f'{fmt({"median": r["rounds"]["apply_seconds"]}, "sec")} + {fmt({"median": r["rounds"]["diff_seconds"]}, "sec")}',
                 fmt({"median": r["rounds"]["merge_seconds"]}, "sec"),
                 f"{r['rounds']['bytes_to_workers'] / 2**20:,.1f} / {r['rounds']['bytes_from_workers'] / 2**20:,.1f}",
                 " / ".join(f"{n:,.0f}" for n in r["rounds"]["rows_changed"])] for r in rounds]
        lines.append(_table(["entry", "rounds", "words/round (all workers)", "round s", "compute s", "communicate s",
                             "worker apply + diff s", "merge s", "MB to / from workers", "rows changed"], rows))
    lines += ["", "Train words/s = corpus tokens × epochs / train seconds (fastemb: `train_seconds` of its report, "
                  "every round's communication and merge included; MLlib: its `fit()`, vocabulary pass included). "
                  "Quality: one evaluator for every entry on the saved text vectors (Google analogies 3CosAdd over "
                  "the 30,000 most frequent words, WS353 and MEN Spearman ρ).", "", _load_note(doc), ""]
    failed = [r for r in doc["runs"] if r.get("error")]
    lines += [f"* {r['name']} failed: {r['error'].splitlines()[0]}" for r in failed]
    lines += _not_run(doc)
    lines += ["", "<details><summary>Commands</summary>", ""]
    lines += [f"* {r['name']}: `{r.get('command', '?')}`" for r in doc["runs"]]
    lines += ["", "</details>"]
    return "\n".join(lines).replace("\n\n\n", "\n\n").strip() + "\n"


RENDERERS = {"sgns": render_sgns, "threads": render_threads, "size": render_size, "supervised": render_supervised,
             "distributed": render_distributed}


def render(doc: dict) -> str:
    return RENDERERS[doc["mode"]](doc)


# ---------------------------------------------------------------------------------------------
# Plot

def plot_threads(doc: dict, path: Path) -> str | None:
    """Words/sec and words/sec/thread against threads, one line per tool; None when matplotlib is missing."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    by_tool: dict[str, list[dict]] = {}
    for t in doc["summary"]:
        if t.get("words_per_sec"):
            by_tool.setdefault(t["tool"], []).append(t)
    for tool, points in by_tool.items():
        points.sort(key=lambda p: p["threads"])
        xs = [p["threads"] for p in points]
        for ax, field in zip(axes, ("words_per_sec", "words_per_sec_thread")):
            ys = [p[field]["median"] for p in points]
            low = [p[field]["median"] - p[field]["min"] for p in points]
            high = [p[field]["max"] - p[field]["median"] for p in points]
            ax.errorbar(xs, ys, yerr=[low, high], marker="o", capsize=3, label=tool)
    for ax, title in zip(axes, ("train words/sec", "train words/sec per thread")):
        ax.set_xlabel("threads")
        ax.set_title(title)
        ax.set_xticks(doc["thread_counts"])
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"{_title(doc)} thread scaling, {doc['corpus']['tokens']:,} tokens ({doc.get('machine', {}).get('model', '')})",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return str(path)


# ---------------------------------------------------------------------------------------------
# RESULTS.md

def _replace_section(text: str, name: str, body: str) -> str:
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    block = f"{start}\n{body.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if pattern.search(text):
        return pattern.sub(lambda _: block, text)
    return text.rstrip() + "\n\n" + block + "\n"


def update_results(json_paths: list[Path], results: Path = RESULTS_MD) -> list[str]:
    """Rewrite the RESULTS.md sections of the runs in ``json_paths``; returns the sections updated."""
    docs = [json.loads(Path(p).read_text()) for p in json_paths]
    text = results.read_text() if results.exists() else "# Benchmark results\n"
    updated = []
    for doc in docs:
        section = doc.get("section", doc["mode"])
        plot = doc.get("plot")
        if doc["mode"] == "threads" and plot:
            plot = Path(plot) if Path(plot).is_absolute() else Path(__file__).resolve().parent.parent / plot
            if plot.exists():  # bench/out is git-ignored: keep a copy beside RESULTS.md
                target = results.parent / f"RESULTS-{section}.png"
                shutil.copyfile(plot, target)
                doc["plot_link"] = target.name
        text = _replace_section(text, section, render(doc))
        updated.append(section)
    if docs:
        latest = max(docs, key=lambda d: d.get("started", ""))
        text = _replace_section(text, "machine", render_machine(latest))
        updated.append("machine")
    results.write_text(text)
    return updated


def latest_jsons(out_dir: Path) -> list[Path]:
    """The newest JSON of each mode in ``out_dir`` (files named MODE-YYYYmmdd-HHMMSS.json).

    Runs with their own section (MODE-cbow-..., MODE-hs-..., supervised-hs-...) are not picked:
    give their JSON explicitly to add them to RESULTS.md."""
    found = []
    for mode in MODES:
        candidates = sorted(Path(out_dir).glob(f"{mode}-2*.json"))
        if candidates:
            found.append(candidates[-1])
    return found
