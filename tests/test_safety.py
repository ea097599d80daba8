"""A user's data is never lost: outputs cannot destroy inputs, the finished work is saved first,
signals never cut a write in half or leave scratch files, settings are checked before any work,
and nothing ends in a traceback."""
import json
import os
import re
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from fastemb.base import limits
from fastemb.training.checkpoint import load_checkpoint
from fastemb.cli import main
from fastemb.base.errors import FastembError
from fastemb.base.fileio import atomic_output, resume_paths
from fastemb.training.finishing import EXIT_CHECKPOINT_NOT_WRITTEN, finish_run, stop_run
from fastemb.base.signals import check, held, stop_requests
from fastemb.models.vectors import load_vectors, save_vectors

from conftest import run_cli

FAST = ["--dim", "8", "--epochs", "1", "--min-count", "1", "--threads", "1", "--quiet"]


def invoke(*args, env=None):
    """The CLI in this process (fast); stdout and stderr apart."""
    try:
        runner = CliRunner(mix_stderr=False)
    except TypeError:  # click >= 8.2 always keeps them apart
        runner = CliRunner()
    result = runner.invoke(main, [str(a) for a in args], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def one_error_line(result, fragment: str) -> None:
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 1, result.stderr
    assert len(lines) == 1 and lines[0].startswith("Error: ") and fragment in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def leftovers(directory) -> list[str]:
    """Scratch and temporary files: the encoded corpus, spilled ids, half-written outputs."""
    return sorted(p.name for p in Path(directory).iterdir()
                  if p.name.startswith(".fastemb-") or p.name.endswith((".tmp", ".renumbered",
                                                                                          ".merged")))


@pytest.fixture
def vectors_file(tmp_path) -> Path:
    path = tmp_path / "vectors.txt"
    save_vectors(str(path), [f"w{i}" for i in range(50)], np.random.default_rng(0).random((50, 4), np.float32))
    return path


# --- outputs never destroy inputs, nor each other ----------------------------------------------

INPUT_AS_OUTPUT = [
    ("skipgram", "corpus", ["-o", "{corpus}"]),
    ("skipgram", "corpus", ["-o", "v.txt", "--report", "{corpus}"]),
    ("skipgram", "corpus", ["-o", "v.txt", "--checkpoint", "{corpus}"]),
    ("skipgram", "corpus", ["-o", "{link}"]),          # a symbolic link to the input
    ("skipgram", "corpus", ["-o", "{hardlink}"]),      # a second name of the input
    ("skipgram", "vectors", ["-o", "{vectors}", "--init", "{vectors}"]),
    ("supervised", "labelled", ["-o", "{labelled}"]),
    ("supervised", "labelled", ["-o", "m.npz", "--vectors", "{labelled}"]),
    ("supervised", "labelled", ["-o", "m.npz", "--report", "{labelled}"]),
    ("supervised", "vectors", ["-o", "{vectors}", "--pretrained", "{vectors}", "--dim", "4"]),
    ("compare", "vectors", ["--plot", "{vectors}"]),
]


@pytest.mark.parametrize("command,kept,args", INPUT_AS_OUTPUT)
def test_an_output_that_is_an_input_is_refused_and_the_input_stays(topic_corpus, labelled, vectors_file, tmp_path,
                                                                   monkeypatch, command, kept, args):
    (tmp_path / "link.txt").symlink_to(topic_corpus)
    os.link(topic_corpus, tmp_path / "hardlink.txt")
    names = {"corpus": topic_corpus, "labelled": labelled, "vectors": vectors_file,
             "link": tmp_path / "link.txt", "hardlink": tmp_path / "hardlink.txt"}
    data = {"corpus": topic_corpus, "labelled": labelled, "vectors": vectors_file}[kept]
    before, files = data.read_bytes(), sorted(os.listdir(tmp_path))
    inputs = {"skipgram": [topic_corpus], "supervised": [labelled], "compare": [vectors_file, vectors_file]}[command]
    monkeypatch.chdir(tmp_path)
    done = invoke(command, *inputs, *[a.format(**names) for a in args], *(["--quiet"] if command != "compare" else []))
    one_error_line(done, "is the same file as")
    assert data.read_bytes() == before and sorted(os.listdir(tmp_path)) == files


@pytest.mark.parametrize("command,args", [
    ("skipgram", ["-o", "out.txt", "--report", "out.txt"]),
    ("skipgram", ["-o", "out.txt", "--checkpoint", "./sub/../out.txt"]),
    ("skipgram", ["-o", "v.txt", "--report", "out.txt", "--checkpoint", "out.txt"]),
    ("supervised", ["-o", "out.txt", "--vectors", "out.txt"]),
    ("supervised", ["-o", "out.txt", "--report", "out.txt"]),
])
def test_two_outputs_that_are_one_file_are_refused(topic_corpus, labelled, tmp_path, monkeypatch, command, args):
    (tmp_path / "sub").mkdir()
    (tmp_path / "out.txt").write_text("precious\n")
    monkeypatch.chdir(tmp_path)
    done = invoke(command, topic_corpus if command == "skipgram" else labelled, *args, "--quiet")
    one_error_line(done, "one output would overwrite the other")
    assert (tmp_path / "out.txt").read_text() == "precious\n" and not (tmp_path / "v.txt").exists()


def test_a_symlinked_output_keeps_its_link_and_a_private_file_its_mode(topic_corpus, tmp_path):
    target, link, private = tmp_path / "target.txt", tmp_path / "link.txt", tmp_path / "private.txt"
    target.write_text("old\n")
    link.symlink_to(target)
    private.write_text("old\n")
    private.chmod(0o600)
    for output in (link, private):
        done = invoke("skipgram", topic_corpus, "-o", output, *FAST)
        assert done.exit_code == 0, done.stderr
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert len(load_vectors(str(target))) == 40  # the link's target holds the vectors
    assert stat.S_IMODE(private.stat().st_mode) == 0o600 and len(load_vectors(str(private))) == 40


def test_a_fifo_output_is_written_in_place_not_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    with atomic_output(str(fifo), "wb") as handle:
        handle.write(b"data\n")
    reader.join(10)
    assert got == [b"data\n"] and stat.S_ISFIFO(fifo.stat().st_mode)


# --- the finished work is saved first ----------------------------------------------------------

def test_a_final_checkpoint_that_cannot_be_written_keeps_the_vectors(topic_corpus, tmp_path, monkeypatch):
    import fastemb.training.checkpoint

    def no_room(path, trainer, run):
        raise FastembError(f"{path}: write failed (No space left on device, injected)")
    monkeypatch.setattr(fastemb.training.checkpoint, "save_checkpoint", no_room)
    out, report = tmp_path / "v.txt", tmp_path / "r.json"
    done = invoke("skipgram", topic_corpus, "-o", out, "--checkpoint", tmp_path / "run.ckpt", "--report", report, *FAST)
    assert done.exit_code == EXIT_CHECKPOINT_NOT_WRITTEN, done.stderr
    assert f"Warning: {out} saved but the final checkpoint was not" in done.stderr
    assert len(load_vectors(str(out))) == 40 and f"Saved {out}" in done.stdout
    assert "injected" in json.loads(report.read_text())["checkpoint_error"]


def test_a_checkpoint_on_a_full_filesystem_keeps_the_vectors(topic_corpus, tmp_path):
    full = tmp_path / "tiny"
    full.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(full)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        out = tmp_path / "v.txt"
        done = run_cli("skipgram", topic_corpus, "-o", out, "--checkpoint", full / "run.ckpt", "--dim", "100",
                       "--epochs", "1", "--min-count", "1", "--threads", "1", "--quiet")
        assert done.returncode == EXIT_CHECKPOINT_NOT_WRITTEN and "No space left on device" in done.stderr
        assert "Traceback" not in done.stderr and len(load_vectors(str(out))) == 40
        assert os.listdir(full) == []  # no half-written checkpoint either
    finally:
        subprocess.run(["umount", str(full)], check=True)


def test_the_output_is_written_before_the_checkpoint_and_survives_its_failure():
    order = []

    def fails():
        order.append("checkpoint")
        raise FastembError("disk full")
    assert finish_run(lambda: order.append("output"), fails, "c") == "disk full" and order == ["output", "checkpoint"]


def test_an_output_that_cannot_be_written_still_leaves_the_checkpoint():
    saved = []

    def fails():
        raise FastembError("v.txt: write failed")
    with pytest.raises(FastembError, match=r"the finished run is saved in run.ckpt: `fastemb resume run.ckpt`"):
        finish_run(fails, lambda: saved.append("checkpoint"), "run.ckpt")
    assert saved == ["checkpoint"]


def test_a_stopped_run_saves_the_vectors_then_tries_the_checkpoint():
    def fails():
        raise FastembError("disk full")
    notes = stop_run("epoch 1 of 2", "v.txt", lambda: None, fails, "run.ckpt")
    assert "Trained so far, saved to v.txt." in notes and "checkpoint was NOT saved (disk full)" in notes


def test_signals_during_a_held_block_wait_for_its_end():
    finished = False
    with pytest.raises(KeyboardInterrupt):
        with held():
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)  # a second Ctrl-C does not cut the block short either
            time.sleep(0.05)
            finished = True
    assert finished
    with held(deliver=False):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)


def test_a_burst_of_signals_is_one_request_and_never_cuts_the_stop_short():
    """The first request is raised; later ones, however fast, are only counted until the scope ends."""
    cleaned = False
    with pytest.raises(KeyboardInterrupt):
        with stop_requests():
            try:
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(1)
            except KeyboardInterrupt:
                for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP) * 5:  # the burst, while stopping
                    os.kill(os.getpid(), signum)
                time.sleep(0.05)
                cleaned = True
                raise
    assert cleaned
    with pytest.raises(KeyboardInterrupt):  # the scope is over: the next Ctrl-C stops again
        with stop_requests():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)


def test_a_request_held_while_a_caught_error_ended_the_block_is_raised_at_the_next_check():
    with stop_requests():
        with pytest.raises(FastembError):
            with held():
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.05)
                raise FastembError("a periodic checkpoint failed")
        with pytest.raises(KeyboardInterrupt) as raised:
            check()
    assert raised.value.signum == signal.SIGTERM


def test_ctrl_c_while_writing_waits_for_the_complete_file(tmp_path):
    out = tmp_path / "out.txt"
    out.write_text("old\n")
    with pytest.raises(KeyboardInterrupt):
        with atomic_output(str(out), "w") as handle:
            handle.write("first half\n")
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            handle.write("second half\n")
    assert out.read_text() == "first half\nsecond half\n" and leftovers(tmp_path) == []


# --- resume writes only where the user says ----------------------------------------------------

@pytest.fixture
def foreign_checkpoint(topic_corpus, tmp_path):
    """A finished run whose checkpoint (in A/) records an output and a report in B/."""
    a, b = tmp_path / "A", tmp_path / "B"
    a.mkdir(), b.mkdir()
    done = invoke("skipgram", topic_corpus, "-o", b / "v.txt", "--report", b / "r.json",
                  "--checkpoint", a / "run.ckpt", *FAST)
    assert done.exit_code == 0, done.stderr
    (b / "v.txt").write_text("precious\n")
    return a / "run.ckpt"


def test_resume_refuses_an_output_outside_the_checkpoint_directory_unless_given(foreign_checkpoint, topic_corpus):
    a, b = foreign_checkpoint.parent, foreign_checkpoint.parent.parent / "B"
    recorded_report = (b / "r.json").read_bytes()
    done = invoke("resume", foreign_checkpoint, "--quiet")
    one_error_line(done, "outside the checkpoint's directory")
    assert "pass -o FILE" in done.stderr
    done = invoke("resume", foreign_checkpoint, "-o", a / "v.txt", "--quiet")
    one_error_line(done, "the report")
    assert "pass --report FILE" in done.stderr
    done = invoke("resume", foreign_checkpoint, "-o", a / "v.txt", "--report", a / "r.json", "--quiet")
    assert done.exit_code == 0, done.stderr
    assert f"writing {a / 'v.txt'}, the report to {a / 'r.json'}" in done.stderr  # said before training, even with -q
    assert len(load_vectors(str(a / "v.txt"))) == 40 and json.loads((a / "r.json").read_text())["output"]
    assert (b / "v.txt").read_text() == "precious\n" and (b / "r.json").read_bytes() == recorded_report
    for clash in (topic_corpus, foreign_checkpoint):  # -o may not name the corpus or the checkpoint itself
        done = invoke("resume", foreign_checkpoint, "-o", clash, "--report", a / "r.json", "--quiet")
        one_error_line(done, "is the same file as")


def test_resume_paths_accepts_the_checkpoint_directory_only(tmp_path):
    checkpoint = str(tmp_path / "run.ckpt")
    run = {"input": str(tmp_path / "c.txt"), "output": str(tmp_path / "v.txt"), "report": None}
    assert resume_paths(checkpoint, run) == {"output": run["output"], "report": None, "vectors": None, "model": None}
    for hostile in ("/etc/passwd", str(tmp_path / "sub" / "v.txt"), ["not", "a", "path"], ""):
        with pytest.raises(FastembError, match="pass -o FILE"):
            resume_paths(checkpoint, {**run, "output": hostile})


def test_resume_refuses_a_recorded_output_that_links_outside_the_checkpoint_directory(foreign_checkpoint):
    """The recorded name is in the checkpoint's directory, but a link there points at a file elsewhere:
    resuming would overwrite that file."""
    a, b = foreign_checkpoint.parent, foreign_checkpoint.parent.parent / "B"
    arrays = dict(np.load(foreign_checkpoint))
    meta = json.loads(arrays["meta"].tobytes())
    meta["run"].update(output=str(a / "v.txt"), report=None)
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    with open(foreign_checkpoint, "wb") as handle:
        np.savez(handle, **arrays)
    (a / "v.txt").symlink_to(b / "v.txt")
    done = invoke("resume", foreign_checkpoint, "--quiet")
    one_error_line(done, f"a link to {b / 'v.txt'}")
    assert "pass -o FILE" in done.stderr and (b / "v.txt").read_text() == "precious\n"
    (a / "v.txt").unlink()
    (a / "v.txt").symlink_to(a / "inside.txt")  # a link that stays in the directory is the directory's file
    assert resume_paths(str(foreign_checkpoint), meta["run"])["output"] == str(a / "v.txt")


# --- signals leave no scratch file -------------------------------------------------------------

# Runs the CLI with one phase slowed down, so that a signal can be sent while it is going on.
SLOWED = textwrap.dedent("""
    import sys, time
    import fastemb.text.corpus as corpus, fastemb.formats.word2vec as word2vec_format, fastemb.models.vectors as vectors
    phase = sys.argv[1]
    if phase == "reading":  # small blocks, each a little slow
        corpus.BLOCK_BYTES = 1 << 12
        add = corpus._IdStore.add
        corpus._IdStore.add = lambda self, ids: (time.sleep(0.02), add(self, ids))[1]
    elif phase == "saving":  # the first block of the vectors file takes 2 s
        rows = word2vec_format._format_rows
        word2vec_format._format_rows = lambda block: (time.sleep(2), rows(block))[1]
    elif phase == "checkpointing":  # says when training starts; writing a checkpoint takes 2 s
        import pathlib
        import numpy
        import fastemb.training.trainer as trainer
        run, savez = trainer.Trainer.run, numpy.savez
        trainer.Trainer.run = lambda self, *a, **k: (pathlib.Path("training").touch(), run(self, *a, **k))[1]
        numpy.savez = lambda *a, **k: (time.sleep(2), savez(*a, **k))[1]
    elif phase == "internal":
        def broken(path):
            raise ZeroDivisionError("injected")
        vectors.load_vectors = broken
    from fastemb.cli import main
    sys.argv = ["fastemb"] + sys.argv[2:]
    main()
""")


@pytest.fixture(scope="module")
def long_corpus(tmp_path_factory):
    """About 600k tokens: several seconds of 40-epoch training, and long enough to read slowly."""
    rng = np.random.default_rng(1)
    vocab = np.array([f"w{i}" for i in range(3000)])
    weights = 1.0 / np.arange(1, 3001)
    words = rng.choice(vocab, size=(30_000, 20), p=weights / weights.sum())
    path = tmp_path_factory.mktemp("long") / "corpus.txt"
    path.write_text("\n".join(" ".join(line) for line in words) + "\n")
    return path


def _start(phase, *args, cwd):
    return subprocess.Popen([sys.executable, "-c", SLOWED, phase, *map(str, args)], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_until(found, process, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not found():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.01)


def _scratch_seen(directory, kind):
    """Is a scratch file of ``kind`` (ids, corpus, output) in ``directory``?"""
    return lambda: any(re.match(rf"\.fastemb-\w*-\d+-{kind}-", p.name) for p in Path(directory).iterdir())


ARGS = ["--dim", "24", "--epochs", "40", "--min-count", "1", "--threads", "1", "--seed", "9", "--quiet"]


def test_sighup_while_reading_leaves_no_scratch_file(long_corpus, tmp_path):
    process = _start("reading", "skipgram", long_corpus, "-o", "v.txt", "--max-memory", "0", *ARGS, cwd=tmp_path)
    _wait_until(_scratch_seen(tmp_path, "ids"), process)  # the token ids spill to a scratch file
    process.send_signal(signal.SIGHUP)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 129 and "Traceback" not in stderr
    assert "no output was written" in stderr and os.listdir(tmp_path) == []


def test_sighup_while_training_saves_the_checkpoint_and_leaves_no_scratch_file(long_corpus, tmp_path):
    process = _start("training", "skipgram", long_corpus, "-o", "v.txt", "--on-disk", "--checkpoint", "run.ckpt",
                     "--checkpoint-every", "0.3", *ARGS, cwd=tmp_path)
    _wait_until(lambda: (tmp_path / "run.ckpt").exists(), process)
    assert _scratch_seen(tmp_path, "corpus")()  # the encoded corpus is on disk while training
    process.send_signal(signal.SIGHUP)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 129 and "Traceback" not in stderr and "Checkpoint saved to run.ckpt" in stderr
    assert sorted(os.listdir(tmp_path)) == ["run.ckpt"]
    assert load_checkpoint(str(tmp_path / "run.ckpt"))["meta"]["epoch"] < 40


def test_a_second_ctrl_c_while_the_checkpoint_is_written_does_not_lose_it(long_corpus, tmp_path):
    process = _start("checkpointing", "skipgram", long_corpus, "-o", "v.txt", "--checkpoint", "run.ckpt", *ARGS,
                     cwd=tmp_path)
    _wait_until(lambda: (tmp_path / "training").exists(), process)
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    _wait_until(_scratch_seen(tmp_path, "output"), process)  # the checkpoint being written (not the probe)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130 and "Traceback" not in stderr and "Checkpoint saved to run.ckpt" in stderr
    assert load_checkpoint(str(tmp_path / "run.ckpt"))["meta"]["epoch"] < 40 and leftovers(tmp_path) == []


def test_a_closed_stderr_does_not_stop_a_run(topic_corpus, tmp_path):
    """Progress lines into a terminal that went away (SIGHUP: EIO) or a closed pipe are dropped."""
    process = subprocess.Popen([sys.executable, "-m", "fastemb.cli", "skipgram", str(topic_corpus), "-o", "v.txt",
                                "--threads", "1000", *FAST[:-1]], cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    process.stderr.close()
    stdout, _ = process.communicate(timeout=60)
    assert process.returncode == 0 and b"Saved v.txt" in stdout and len(load_vectors(str(tmp_path / "v.txt"))) == 40


@pytest.mark.parametrize("signals,code", [([signal.SIGHUP], 129), ([signal.SIGINT, signal.SIGINT], 130)])
def test_signals_while_saving_wait_for_the_complete_file(topic_corpus, tmp_path, signals, code):
    process = _start("saving", "skipgram", topic_corpus, "-o", "v.txt", "--on-disk", *FAST, cwd=tmp_path)
    _wait_until(_scratch_seen(tmp_path, "output"), process)  # the vectors being written (not the probe)
    for signum in signals:
        process.send_signal(signum)
        time.sleep(0.1)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == code and "Traceback" not in stderr and "v.txt written before the stop" in stderr
    assert len(load_vectors(str(tmp_path / "v.txt"))) == 40 and leftovers(tmp_path) == []


# --- settings checked up front -----------------------------------------------------------------

HUGE = str(10**20)
HOSTILE_FLAGS = [
    ("skipgram", ["--lr", "inf"], "--lr must be a finite number"),
    ("skipgram", ["--lr", "nan"], "--lr must be a number"),
    ("skipgram", ["--lr", "1e30"], "--lr must be at most 10"),
    ("skipgram", ["--min-lr", "nan"], "--min-lr must be a number"),
    ("skipgram", ["--window", "1000000"], "--window must be at most 1,000"),
    ("skipgram", ["--negative", "1000000"], "--negative must be at most 1,000"),
    ("skipgram", ["--dim", "1000000"], "--dim must be at most 10,000"),
    ("skipgram", ["--dim", HUGE], "--dim must be at most 10,000"),
    ("skipgram", ["--window", HUGE], "--window must be at most 1,000"),
    ("skipgram", ["--seed", HUGE], "--seed must be at most 9,223,372,036,854,775,807"),
    ("skipgram", ["--epochs", HUGE], "--epochs must be at most"),
    ("skipgram", ["--max-vocab", HUGE], "--max-vocab must be at most"),
    ("skipgram", ["--max-memory", "nan"], "--max-memory must be a number"),
    ("skipgram", ["--checkpoint-every", "nan"], "--checkpoint-every must be > 0"),
    ("skipgram", ["--sample", "nan"], "--sample must be a number"),
    ("skipgram", ["--sample", "inf"], "--sample must be a finite number"),
    ("skipgram", ["--threads", HUGE], "--threads must be at most"),
    ("supervised", ["--lr", "1e30"], "--lr must be at most 10"),
    ("supervised", ["--dim", HUGE], "--dim must be at most 10,000"),
    ("supervised", ["--neg", "1000000"], "--neg must be at most 1,000"),
    ("supervised", ["--seed", HUGE], "--seed must be at most"),
    ("supervised", ["--word-ngrams", "2", "--buckets", str(10**10)], "--buckets must be at most"),
    ("supervised", ["--word-ngrams", "2", "--buckets", str(10**9), "--dim", "10000"], "of memory is available"),
]


@pytest.mark.parametrize("command,flags,message", HOSTILE_FLAGS)
def test_settings_that_make_no_sense_are_one_error_line_before_reading(topic_corpus, labelled, tmp_path, monkeypatch,
                                                                      command, flags, message):
    monkeypatch.chdir(tmp_path)
    files = sorted(os.listdir(tmp_path))
    done = invoke(command, topic_corpus if command == "skipgram" else labelled, "-o", "out", *flags, "--quiet")
    one_error_line(done, message)
    assert sorted(os.listdir(tmp_path)) == files


@pytest.mark.parametrize("args,message", [
    (["skipgram", "{corpus}", "-o", ""], "-o/--output is empty"),
    (["skipgram", "{corpus}", "-o", "v.txt", "--report", ""], "--report is empty"),
    (["supervised", "{labelled}", "-o", "m.npz", "--vectors", ""], "--vectors is empty"),
    (["bench", "{corpus}", "--words", HUGE], "--words must be at most"),
])
def test_empty_output_names_and_huge_counts_are_one_error_line(topic_corpus, labelled, tmp_path, monkeypatch, args,
                                                              message):
    monkeypatch.chdir(tmp_path)
    done = invoke(*[a.format(corpus=topic_corpus, labelled=labelled) for a in args])
    one_error_line(done, message)


def test_tables_larger_than_the_memory_available_are_refused_before_allocating(topic_corpus, tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "available_memory", lambda: 100_000)
    done = invoke("skipgram", topic_corpus, "-o", tmp_path / "v.txt", *FAST[:-1], "--dim", "1000", "--quiet")
    one_error_line(done, "the tables (2 x 40 words x 1,000 dims x 4 bytes) need 0.3 MB but 0.1 MB of memory")
    assert not (tmp_path / "v.txt").exists()


def test_more_threads_than_cores_are_clamped_with_a_note(topic_corpus, tmp_path):
    report = tmp_path / "r.json"
    done = invoke("skipgram", topic_corpus, "-o", tmp_path / "v.txt", "--threads", "1000", "--report", report,
                  "--dim", "8", "--epochs", "1", "--min-count", "1")
    cores = limits.cores()
    assert done.exit_code == 0, done.stderr
    assert f"Note: --threads 1,000 is more than the {cores} cores available; using {cores}" in done.stderr
    assert json.loads(report.read_text())["threads"] == cores and f"{cores} threads" in done.stdout


# --- no traceback anywhere ---------------------------------------------------------------------

def test_an_internal_error_is_two_lines_and_the_traceback_only_on_request(vectors_file, monkeypatch):
    import fastemb.models.vectors

    def broken(path):
        raise ZeroDivisionError("injected")
    monkeypatch.setattr(fastemb.models.vectors, "load_vectors", broken)
    done = invoke("neighbors", vectors_file, "w1")
    lines = done.stderr.strip().splitlines()
    assert done.exit_code == 1 and len(lines) == 2, done.stderr
    assert lines[0] == "Error: internal error: ZeroDivisionError: injected" and "please report it" in lines[1]
    for debug in (["--debug"], []):
        runner = CliRunner()
        shown = runner.invoke(main, [*debug, "neighbors", str(vectors_file), "w1"],
                              env={} if debug else {"FASTEMB_DEBUG": "1"})
        assert isinstance(shown.exception, ZeroDivisionError)


def test_an_internal_error_in_a_real_process_prints_no_traceback(vectors_file, tmp_path):
    done = subprocess.run([sys.executable, "-c", SLOWED, "internal", "neighbors", str(vectors_file), "w1"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("Error: internal error: ZeroDivisionError: injected\n")


def test_out_of_memory_is_one_error_line(vectors_file, monkeypatch):
    import fastemb.models.vectors

    def no_memory(path):
        raise MemoryError("Unable to allocate 37.3 GiB")
    monkeypatch.setattr(fastemb.models.vectors, "load_vectors", no_memory)
    one_error_line(invoke("neighbors", vectors_file, "w1"), "out of memory (Unable to allocate 37.3 GiB)")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("args", [["neighbors", "{vectors}", "w1"], ["--version"]])
def test_a_full_stdout_is_one_error_line(vectors_file, args):
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "fastemb.cli", *[a.format(vectors=vectors_file) for a in args]],
                              stdout=full, stderr=subprocess.PIPE, text=True)
    assert done.returncode == 1
    assert done.stderr == "Error: cannot write to standard output (No space left on device)\n"


def test_a_closed_pipe_ends_quietly(labelled, tmp_path):
    model = tmp_path / "m.npz"
    assert invoke("supervised", labelled, "-o", model, "--dim", "4", "--threads", "1", "--quiet").exit_code == 0
    process = subprocess.Popen([sys.executable, "-m", "fastemb.cli", "predict", str(model), str(labelled)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # `| head -0`: the reader is gone before the first line
    stderr = process.stderr.read()
    assert process.wait(60) == 141 and stderr == b""


def test_test_on_data_without_labels_is_an_error(labelled, tmp_path):
    model, unlabelled = tmp_path / "m.npz", tmp_path / "unlabelled.txt"
    assert invoke("supervised", labelled, "-o", model, "--dim", "4", "--threads", "1", "--quiet").exit_code == 0
    unlabelled.write_text("a1 a2 a3\nb1 b2\n")
    one_error_line(invoke("test", model, unlabelled), "no line has a label that")
