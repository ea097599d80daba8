"""The benchmark harness (``python -m bench``): it runs, and its JSON and markdown parse. No timing asserts."""
import json
import subprocess
import sys
import textwrap

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT))

from bench import report  # noqa: E402
from bench.datasets import prepare_corpus, tokens  # noqa: E402
from bench.harness import run_child, summarise  # noqa: E402


def markdown_tables(text):
    """[(header cells, [row cells, ...]), ...] of the pipe tables in ``text``."""
    tables, block = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            block.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif block:
            assert set("".join(block[1])) <= set("-: "), "second line of a table must be its rule"
            tables.append((block[0], block[2:]))
            block = []
    return tables


def test_run_child_times_output_and_watched_files(tmp_path):
    target = tmp_path / "appears.txt"
    script = textwrap.dedent(f"""
        import sys, time
        print("first", flush=True)
        time.sleep(0.3)
        sys.stderr.write("second\\n"); sys.stderr.flush()
        time.sleep(0.2)
        open({str(target)!r}, "w").close()
        time.sleep(0.2)
        sys.exit(3)
    """)
    child = run_child([sys.executable, "-c", script], watch=(str(target),))
    assert child.returncode == 3
    first, second = child.stdout.time_of(r"first\n"), child.stderr.time_of(r"second\n")
    assert first is not None and second is not None and first < second
    assert second < child.appeared[str(target)] < child.wall_seconds
    assert child.max_rss_mb > 1 and child.cpu_seconds >= 0
    assert child.stderr.time_of("never printed") is None


def test_summarise_and_format():
    stat = summarise([3.0, 1.0, None, 2.0, float("nan")])
    assert stat == {"median": 2.0, "min": 1.0, "max": 3.0, "n": 3}
    assert summarise([None]) is None
    assert report.fmt(stat, "sec") == "2.00 (1.00–3.00)"
    assert report.fmt({"median": 1.5e6, "min": 1.5e6, "max": 1.5e6, "n": 2}, "rate") == "1,500k"


def test_tokens_and_corpus_prefixes(tmp_path):
    assert tokens("Don't STOP_me: e-mail 3.14 rock'n'roll 'quoted'") == \
        ["don't", "stop", "me", "e", "mail", "3", "14", "rock'n'roll", "quoted"]
    source = tmp_path / "c.txt"
    source.write_text("a b c\nd e\nf g h i\n")
    whole, prefix = prepare_corpus(source, tmp_path / "work", [None, 4])
    assert (whole["tokens"], whole["lines"], whole["path"]) == (9, 3, str(source))  # plain text: used in place
    assert (prefix["tokens"], prefix["lines"]) == (5, 2)
    assert open(prefix["path"]).read() == "a b c\nd e\n"


def test_results_sections_are_replaced(tmp_path):
    results = tmp_path / "RESULTS.md"
    results.write_text("# R\n\nprose\n<!-- bench:sgns:start -->\nold\n<!-- bench:sgns:end -->\ntail\n")
    text = report._replace_section(results.read_text(), "sgns", "new table")
    assert "old" not in text and "new table" in text and text.startswith("# R\n\nprose") and "tail" in text
    assert "<!-- bench:size:start -->\nx\n<!-- bench:size:end -->" in report._replace_section(text, "size", "x")


@pytest.mark.slow
def test_quick_sgns_end_to_end(real_data, tmp_path):
    """The --quick skip-gram mode on a 200k-token slice with fastemb and gensim: JSON, markdown, RESULTS."""
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "bench", "sgns", "--quick", "--tools", "fastemb,gensim",
                           "--tokens", "200000", "--out", str(out), "--data", str(real_data)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    doc = json.loads((out / "sgns-latest.json").read_text())
    assert doc["mode"] == "sgns" and doc["settings"]["epochs"] == 1 and doc["settings"]["dim"] == 50
    assert 200_000 <= doc["corpus"]["tokens"] < 210_000
    assert [run["tool"] for run in doc["runs"]] == ["fastemb", "gensim"]
    for run in doc["runs"]:
        assert not run.get("error"), run.get("error")
        assert run["train"] > 0 and run["words_per_sec"] > 0 and run["max_rss_mb"] > 0 and run["vocab_size"] > 100
        assert run["words_per_sec"] == pytest.approx(doc["corpus"]["tokens"] / run["train"])
        assert set(run["quality"]) >= {"ws353", "men", "evaluator"}
        assert -1 <= run["quality"]["men"] <= 1
    assert {s["tool"] for s in doc["summary"]} == {"fastemb", "gensim"}
    markdown = (out / "sgns-latest.md").read_text()
    assert markdown == done.stdout.rstrip("\n") + "\n" or markdown.strip() in done.stdout
    tables = markdown_tables(markdown)
    assert len(tables) == 2  # speed, quality
    for header, rows in tables:
        assert [row[0] for row in rows] == ["fastemb", "gensim"]
        assert all(len(row) == len(header) for row in rows)
    speed = dict(zip(tables[0][0], tables[0][1][0]))
    assert float(speed["train s"].split()[0]) > 0

    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n<!-- bench:sgns:start -->\nnothing yet\n<!-- bench:sgns:end -->\n")
    done = subprocess.run([sys.executable, "-m", "bench", "results", str(out / "sgns-latest.json"),
                           "--results", str(results)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    text = results.read_text()
    assert "nothing yet" not in text and "| fastemb |" in text and "<!-- bench:machine:start -->" in text


@pytest.mark.slow
def test_quick_distributed_end_to_end(real_data, tmp_path):
    """The distributed mode without Spark: one process and a 2-worker cluster, their rounds and quality."""
    pytest.importorskip("distributed")
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "bench", "distributed", "--quick", "--workers", "2", "--no-spark",
                           "--quality", "similarity", "--out", str(out), "--data", str(real_data)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    doc = json.loads((out / "distributed-latest.json").read_text())
    assert [run["name"] for run in doc["runs"]] == ["fastemb", "cluster-2"]
    for run in doc["runs"]:
        assert not run.get("error"), run.get("error")
        assert run["words_per_sec"] == pytest.approx(doc["corpus"]["tokens"] / run["train"])
        assert -1 <= run["quality"]["men"] <= 1
    rounds = doc["runs"][1]["rounds"]
    assert rounds["rounds"] >= 8 and rounds["bytes_to_workers"] > 0 and rounds["bytes_from_workers"] > 0
    assert "--cluster local:2" in doc["runs"][1]["command"]
    tables = markdown_tables((out / "distributed-latest.md").read_text())
    assert [[row[0] for row in rows] for _, rows in tables] == [["fastemb", "cluster-2"], ["cluster-2"]]


def _argv(entry, settings=None):
    from bench.tools import SGNS_TOOLS, Settings
    tool = SGNS_TOOLS[entry]
    configured = tool.configure(settings or Settings())
    return tool.command(configured, "corpus.txt", ROOT / "work")[0], configured


def _flag(argv, name):
    return argv[argv.index(name) + 1]


def test_cbow_and_hs_entries_map_onto_each_tools_flags():
    from bench.tools import SGNS_TOOLS, Settings
    plain, _ = _argv("fastemb")
    assert plain[3] == "skipgram" and _flag(plain, "--kernel") == "batched" and "--loss" not in plain
    assert _flag(plain, "--lr") == "0.025" and _flag(plain, "--negative") == "5"

    cbow, settings = _argv("fastemb-cbow")
    assert settings.model == "cbow" and cbow[3] == "cbow" and _flag(cbow, "--lr") == "0.05"
    assert "--cbow-sum" not in cbow and "--kernel" not in cbow
    hs, _ = _argv("fastemb-hs")
    assert hs[3] == "skipgram" and _flag(hs, "--loss") == "hs" and "--negative" not in hs

    gensim_cbow, _ = _argv("gensim-cbow")
    assert (_flag(gensim_cbow, "--sg"), _flag(gensim_cbow, "--hs"), _flag(gensim_cbow, "--cbow-mean")) == ("0", "0", "1")
    assert _flag(gensim_cbow, "--alpha") == "0.05" and _flag(gensim_cbow, "--negative") == "5"
    gensim_hs, _ = _argv("gensim-hs")
    assert (_flag(gensim_hs, "--sg"), _flag(gensim_hs, "--hs")) == ("1", "1") and "--negative" not in gensim_hs

    w2v_hs, _ = _argv("word2vec-c-hs")
    assert (_flag(w2v_hs, "-cbow"), _flag(w2v_hs, "-hs"), _flag(w2v_hs, "-negative")) == ("0", "1", "0")
    w2v_cbow, _ = _argv("word2vec-c-cbow")
    assert (_flag(w2v_cbow, "-cbow"), _flag(w2v_cbow, "-hs"), _flag(w2v_cbow, "-alpha")) == ("1", "0", "0.05")
    ft_hs, _ = _argv("fasttext-cli-hs")
    assert ft_hs[1] == "skipgram" and _flag(ft_hs, "-loss") == "hs" and "-neg" not in ft_hs
    ft_cbow, _ = _argv("fasttext-cbow")
    assert ft_cbow[2] == "cbow" and _flag(ft_cbow, "--lr") == "0.05"

    # an explicit lr is every tool's, CBOW included; --model/--loss reach the plain entries too
    given = Settings(lr=0.01, model="cbow", loss="hs", cbow_mean=False)
    for entry, lr_flag in (("fastemb", "--lr"), ("gensim", "--alpha"), ("fasttext-cli-cbow", "-lr")):
        assert _flag(_argv(entry, given)[0], lr_flag) == "0.01"
    summed, _ = _argv("fastemb", given)
    assert summed[3] == "cbow" and "--cbow-sum" in summed and _flag(summed, "--loss") == "hs"
    assert _flag(_argv("gensim", given)[0], "--cbow-mean") == "0"
    for entry in ("word2vec-c", "fasttext", "fasttext-cli"):  # they only average the CBOW context
        assert SGNS_TOOLS[entry].unsupported(SGNS_TOOLS[entry].configure(given))
    assert SGNS_TOOLS["gensim"].unsupported(given) is None


def test_supervised_loss_reaches_every_tool(tmp_path):
    from bench.supervised_bench import supervised_commands
    data = {"train": "train.txt", "test": "test.txt"}
    for tool, flag in (("fastemb", "--loss"), ("fasttext", "--loss"), ("fasttext-cli", "-loss")):
        for loss in ("hs", "ova"):
            argv, _, command = supervised_commands(tool, data, 1, 0, 5, 1, 2, tmp_path, loss=loss)
            assert _flag(argv, flag) == loss and f"{flag} {loss}" in command


def test_gensim_runner_trains_the_requested_objective(tmp_path):
    pytest.importorskip("gensim")
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(" ".join(f"w{(i * 7 + j) % 30}" for j in range(12)) for i in range(200)) + "\n")
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "runners" / "gensim_runner.py"), str(corpus),
                           str(tmp_path / "v.vec"), str(tmp_path / "r.json"), "--sg", "0", "--hs", "1",
                           "--cbow-mean", "0", "--dim", "8", "--min-count", "1", "--epochs", "1", "--threads", "1",
                           "--alpha", "0.05"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    params = json.loads((tmp_path / "r.json").read_text())["params"]
    assert (params["sg"], params["hs"], params["negative"], params["cbow_mean"]) == (0, 1, 0, 0)
    assert params["alpha"] == pytest.approx(0.05)
    assert (tmp_path / "v.vec").read_text().split("\n", 1)[0] == "30 8"


def test_cbow_and_hs_runs_have_their_own_results_section():
    from bench.cli import sgns_section
    assert sgns_section("sgns", ["", ""]) == "sgns"
    assert sgns_section("sgns", ["", "cbow"]) == "sgns-cbow"
    assert sgns_section("threads", ["hs", "cbow-sum-hs"]) == "threads-cbow-sum-hs"
    line = report._settings_line({"dim": 5, "window": 5, "negative": 5, "sample": 1e-4, "min_count": 1, "epochs": 1,
                                  "lr": None, "min_lr": 1e-4, "threads": 2},
                                 [{"model": "sg", "lr": 0.025, "objective": ""},
                                  {"model": "cbow", "lr": 0.05, "objective": "cbow"}])
    assert "lr 0.025 skip-gram, 0.05 CBOW" in line


def test_quick_alone_runs_every_quick_mode():
    from bench.cli import QUICK_MODES, quick_argvs
    argvs = quick_argvs(["--quick", "--out", "o"])
    assert [a[0] for a in argvs] == list(QUICK_MODES) == ["sgns", "supervised", "threads", "size"]
    assert all(a[1:] == ["--quick", "--out", "o"] for a in argvs)
    assert quick_argvs(["sgns", "--quick"]) is None and quick_argvs(["--quick", "--help"]) is None
    assert quick_argvs(["--out", "o"]) is None
