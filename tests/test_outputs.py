"""The one rule for outputs: each is checked before the work exactly as it will be written, the outputs
of a run are put in place together or not at all, and a finished run is never thrown away."""
import errno
import os
import random
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import fastemb.base.fileio as fileio
from fastemb.cli import main
from fastemb.models.vectors import load_vectors
from fastemb.training.checkpoint import load_checkpoint

FAST = ["--dim", "8", "--epochs", "1", "--min-count", "1", "--threads", "1", "--quiet"]
OLD = b"old contents\n"


def invoke(*args):
    try:
        runner = CliRunner(mix_stderr=False)
    except TypeError:  # click >= 8.2 always keeps them apart
        runner = CliRunner()
    result = runner.invoke(main, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def snapshot(directory: Path) -> dict:
    """Every entry of ``directory``: a link's target, a file's bytes."""
    return {p.name: ("link", os.readlink(p)) if p.is_symlink() else ("file", p.read_bytes())
            for p in directory.iterdir() if not p.is_dir()}


# --- checked before the work, as the save will do it --------------------------------------------

def test_the_longest_legal_output_name_is_written(topic_corpus, tmp_path):
    name = "v" * 251 + ".txt"  # 255 bytes: the file system's limit, with no room for a longer scratch name
    result = invoke("skipgram", topic_corpus, "-o", tmp_path / name, *FAST)
    assert result.exit_code == 0, result.stderr
    assert len(load_vectors(str(tmp_path / name))) == 40 and sorted(os.listdir(tmp_path)) == sorted(
        [topic_corpus.name, name])


@pytest.mark.parametrize("flag", ["-o", "--report", "--checkpoint", "--save-model"])
def test_a_name_the_file_system_refuses_is_one_error_line_before_training(topic_corpus, tmp_path, flag):
    out = tmp_path / "v.txt"
    out.write_bytes(OLD)
    too_long = tmp_path / ("c" * 256)
    args = ["-o", too_long] if flag == "-o" else ["-o", out, flag, too_long]
    result = invoke("skipgram", topic_corpus, *args, *FAST)
    assert result.exit_code == 1 and "256 bytes, more than the 255" in error_line(result)
    assert "Trained" not in result.stdout and out.read_bytes() == OLD


def test_a_dangling_link_is_checked_where_it_points(topic_corpus, tmp_path):
    (tmp_path / "to-nowhere").symlink_to(tmp_path / "missing" / "v.txt")
    result = invoke("skipgram", topic_corpus, "-o", tmp_path / "to-nowhere", *FAST)
    assert result.exit_code == 1 and "output directory" in error_line(result) and "missing" in error_line(result)
    assert "Trained" not in result.stdout
    (tmp_path / "to-new").symlink_to(tmp_path / "new.txt")  # its folder exists: written through the link
    assert invoke("skipgram", topic_corpus, "-o", tmp_path / "to-new", *FAST).exit_code == 0
    assert (tmp_path / "to-new").is_symlink() and len(load_vectors(str(tmp_path / "new.txt"))) == 40


def test_a_write_protected_output_is_refused_before_training(topic_corpus, tmp_path):
    out = tmp_path / "v.txt"
    out.write_bytes(OLD)
    out.chmod(0o444)
    result = invoke("skipgram", topic_corpus, "-o", out, *FAST)
    assert result.exit_code == 1 and "write-protected (mode 0444)" in error_line(result)
    assert out.read_bytes() == OLD and "Trained" not in result.stdout


# --- committed together, never thrown away ------------------------------------------------------

def test_a_report_that_cannot_be_written_replaces_no_output_and_keeps_the_run(topic_corpus, tmp_path):
    out, model = tmp_path / "v.txt", tmp_path / "m.npz"
    out.write_bytes(OLD)
    model.write_bytes(OLD)
    result = invoke("skipgram", topic_corpus, "-o", out, "--save-model", model, "--report", "/dev/full", *FAST)
    line = error_line(result)
    assert result.exit_code == 1 and "/dev/full" in line and "no existing output was changed" in line
    assert out.read_bytes() == OLD and model.read_bytes() == OLD
    folder = Path(re.search(r"saved in (\S+)", line)[1])
    assert folder.parent == tmp_path and len(load_vectors(str(folder / "output-v.txt"))) == 40
    assert (folder / "model-m.npz").stat().st_size > 0 and (folder / "report-full").read_text().startswith("{")


def test_scratch_files_of_killed_runs_are_removed_by_the_next_one(topic_corpus, tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    host = fileio._host()
    stale = [f".fastemb-{host}-{dead.stdout.strip()}-output-abc.tmp", f".fastemb-{host}-{dead.stdout.strip()}-corpus-x.int32"]
    kept = [f".fastemb-{host}-{sleeper.pid}-output-def.tmp", f".fastemb-otherhost-{dead.stdout.strip()}-output-g.tmp",
            "notes.tmp"]
    try:
        for name in stale + kept:
            (tmp_path / name).write_bytes(b"x")
        assert invoke("skipgram", topic_corpus, "-o", tmp_path / "v.txt", *FAST).exit_code == 0
    finally:
        sleeper.kill()
    assert sorted(os.listdir(tmp_path)) == sorted(kept + [topic_corpus.name, "v.txt"])


class FullDisk:
    """``open`` as fileio sees it, with the ``fail_at``-th scratch file opened for writing failing on write."""

    def __init__(self, fail_at):
        self.fail_at, self.opened = fail_at, 0

    def __call__(self, path, mode="r", *args, **kwargs):
        handle = open(path, mode, *args, **kwargs)
        if "w" not in mode or not os.path.basename(path).startswith(".fastemb-"):
            return handle
        self.opened += 1
        if self.opened != self.fail_at:
            return handle

        def write(data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        handle.write = write
        return handle


# (flag, role) of each command's outputs, in the order a finished run writes them
OUTPUTS = {"skipgram": [("-o", "output"), ("--save-model", "model"), ("--checkpoint", "checkpoint"),
                        ("--report", "report")],
           "supervised": [("-o", "output"), ("--vectors", "vectors"), ("--checkpoint", "checkpoint"),
                          ("--report", "report")]}
STATES = ["missing", "existing", "link", "protected", "dangling", "too long"]
REFUSED = {"protected", "dangling", "too long"}


@pytest.mark.parametrize("seed", range(24))
def test_the_output_rule_holds_for_random_outputs_and_failures(topic_corpus, labelled, tmp_path, monkeypatch, seed):
    """Either every output is the new one, or every existing file is as it was and the error line names
    what happened and where the finished run went."""
    rng = random.Random(seed)
    command = rng.choice(sorted(OUTPUTS))
    out_dir, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out_dir.mkdir(), elsewhere.mkdir()
    chosen = [output for i, output in enumerate(OUTPUTS[command]) if i == 0 or rng.random() < 0.6]
    args, states, paths = [], {}, {}
    for flag, role in chosen:
        state = rng.choice(STATES) if rng.random() < 0.5 else rng.choice(["missing", "existing"])
        path = out_dir / (f"{role}-{seed}" if state != "too long" else "x" * 256)
        if state == "existing" or state == "protected":
            path.write_bytes(OLD)
            path.chmod(0o444 if state == "protected" else 0o644)
        elif state == "link":
            (elsewhere / path.name).write_bytes(OLD)
            path.symlink_to(elsewhere / path.name)
        elif state == "dangling":
            path.symlink_to(tmp_path / "gone" / path.name)
        args += [flag, path]
        states[role], paths[role] = state, path
    refused = any(state in REFUSED for state in states.values())
    writes = [role for _, role in chosen]
    fail_at = rng.choice([None] + list(range(1, len(writes) + 1)))
    monkeypatch.setattr(fileio, "open", FullDisk(fail_at), raising=False)
    before = {**snapshot(out_dir), **{f"elsewhere/{k}": v for k, v in snapshot(elsewhere).items()}}
    corpus = topic_corpus if command == "skipgram" else labelled

    result = invoke(command, corpus, *args, *FAST)

    after = {**snapshot(out_dir), **{f"elsewhere/{k}": v for k, v in snapshot(elsewhere).items()}}
    failed = None if refused or fail_at is None else writes[fail_at - 1]
    if refused:
        assert result.exit_code == 1 and "Trained" not in result.stdout, result.stderr
        error_line(result)
        assert after == before and not [p for p in out_dir.iterdir() if p.is_dir()]
        return
    if failed is None or failed == "checkpoint":  # a checkpoint that fails leaves the outputs: exit 3
        assert result.exit_code == (3 if failed else 0), result.stderr
        for role, path in paths.items():
            if role != "checkpoint" or not failed:
                assert Path(os.path.realpath(path)).read_bytes() != OLD, role
            if states[role] == "link":
                assert path.is_symlink()
        return
    line = error_line(result)
    assert result.exit_code == 1 and "No space left on device" in line and "no existing output was changed" in line
    holds_the_run = {paths["checkpoint"].name, f"elsewhere/{paths['checkpoint'].name}"} if "checkpoint" in paths else set()
    assert {name: value for name, value in after.items() if name in before and name not in holds_the_run} == {
        name: value for name, value in before.items() if name not in holds_the_run}
    where = re.search(r"saved in (\S+?):? ", line + " ")[1]
    if "checkpoint" in paths:  # the finished run is in the checkpoint, which resume writes out again
        assert where == str(paths["checkpoint"]) and load_checkpoint(where)["meta"]["epoch"] == 1
    else:
        folder = Path(where)
        assert folder.name.startswith("fastemb-unsaved-")
        saved = sorted(p.name.split("-")[0] for p in folder.iterdir())
        assert saved == sorted(paths)


# --- signals never lose the run ------------------------------------------------------------------

BURSTS = textwrap.dedent("""
    import os, random, signal, sys, threading, time
    from fastemb.base.signals import stop_requests
    from fastemb.cli import main
    corpus, root = sys.argv[1], sys.argv[2]
    codes = []
    for attempt in range(20):
        folder = os.path.join(root, str(attempt))
        os.mkdir(folder)
        checkpoint = os.path.join(folder, "run.ckpt")
        def burst():
            while not os.path.exists(checkpoint):  # the first periodic checkpoint: training is under way
                time.sleep(0.002)
            rng = random.Random(attempt)
            time.sleep(rng.uniform(0, 0.05))
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(rng.randint(2, 8)):  # more Ctrl-C and SIGTERM within a fraction of a second
                time.sleep(rng.uniform(0, 0.03))
                os.kill(os.getpid(), rng.choice([signal.SIGINT, signal.SIGTERM]))
        sender = threading.Thread(target=burst)
        with stop_requests():  # the burst may outlast the command: the next attempt starts in quiet
            sender.start()
            try:
                main(["skipgram", corpus, "-o", os.path.join(folder, "v.txt"), "--checkpoint", checkpoint,
                      "--checkpoint-every", "0.05", "--save-on-interrupt", "--dim", "16", "--epochs", "50",
                      "--min-count", "1", "--threads", "1", "--quiet"])
            except SystemExit as exc:
                codes.append(exc.code)
            sender.join()
    print(" ".join(map(str, codes)))
""")


def test_a_burst_of_signals_repeated_20_times_loses_nothing(tmp_path):
    rng = np.random.default_rng(1)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(" ".join(line) for line in rng.choice([f"w{i}" for i in range(300)],
                                                                       size=(2_000, 20))) + "\n")
    runs = tmp_path / "runs"
    runs.mkdir()
    done = subprocess.run([sys.executable, "-c", BURSTS, str(corpus), str(runs)], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0 and "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    assert done.stdout.split() == ["130"] * 20, done.stderr
    assert done.stderr.count("Checkpoint saved to") == 20 and done.stderr.count("Trained so far, saved to") == 20
    for attempt in range(20):
        folder = runs / str(attempt)
        assert load_checkpoint(str(folder / "run.ckpt"))["meta"]["epoch"] < 50
        assert len(load_vectors(str(folder / "v.txt"))) == 300
        assert sorted(os.listdir(folder)) == ["run.ckpt", "v.txt"]


def test_a_fifo_without_reader_does_not_make_the_command_deaf(topic_corpus, tmp_path):
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    process = subprocess.Popen([sys.executable, "-m", "fastemb.cli", "skipgram", str(topic_corpus), "-o", str(fifo),
                                *FAST], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wchan = Path(f"/proc/{process.pid}/wchan")
    deadline = time.monotonic() + 120
    while not (wchan.exists() and "wait_for_partner" in wchan.read_text()):  # blocked opening the FIFO
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143 and "Traceback" not in stderr, stderr
    folder = Path(re.search(r"saved in (\S+)", stderr)[1])
    assert len(load_vectors(str(folder / "output-out.fifo"))) == 40


def test_the_scratch_files_a_sigkill_leaves_go_with_the_next_run(tmp_path):
    rng = np.random.default_rng(2)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(" ".join(line) for line in rng.choice([f"w{i}" for i in range(300)],
                                                                       size=(5_000, 20))) + "\n")
    args = ["skipgram", str(corpus), "-o", str(tmp_path / "v.txt"), "--on-disk", "--checkpoint",
            str(tmp_path / "run.ckpt"), "--checkpoint-every", "0.1", "--dim", "16", "--epochs", "200",
            "--min-count", "1", "--threads", "1", "--quiet"]
    process = subprocess.Popen([sys.executable, "-m", "fastemb.cli", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not (tmp_path / "run.ckpt").exists():  # training, with the encoded corpus in a scratch file
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.01)
    process.kill()
    process.communicate(timeout=60)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".fastemb-")]
    again = subprocess.run([sys.executable, "-m", "fastemb.cli", *args[:4], "--dim", "8", "--epochs", "1",
                            "--min-count", "1", "--quiet"], capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert sorted(os.listdir(tmp_path)) == ["corpus.txt", "run.ckpt", "v.txt"]
