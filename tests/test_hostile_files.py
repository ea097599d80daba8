"""Files that lie: checkpoints, models and vectors files crafted field by field.

Each is run through the command a user would run on it (``resume``, ``predict``,
``neighbors``) in a subprocess: the answer is one ``Error:`` line naming the file
and the field (or archive member), exit code 1 (a signal would be negative), no
traceback, no warning; a zip bomb is refused with the child's peak memory bounded.
Compact classifier models predict exactly as the full ones they replace.
"""
import io
import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from fastemb.formats import word2vec as word2vec_format
from fastemb.models import vectors as vectors_module
from fastemb.formats.archive import Archive, Field
from fastemb.base.errors import FastembError
from fastemb.base.config import SupervisedConfig
from fastemb.models.supervised import load_model
from fastemb.training.supervised import train_supervised

from conftest import ROOT, assert_one_error_line, run_cli, run_measured

LABELLED_TRAIN, LABELLED_TEST = ROOT / "data" / "labelled-train.txt", ROOT / "data" / "labelled-test.txt"


# ---------------------------------------------------------------------------------------------
# Writing crafted archives


def npy_bytes(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def npy_header(descr: str, shape: tuple) -> bytes:
    """An .npy version 1.0 header declaring ``shape`` of ``descr``, padded as numpy pads it."""
    text = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape!r}, }}"
    text += " " * (-(len(text) + 11) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode("latin1")


def write_zip(path, members):
    """A zip written byte by byte: ``members`` = [(name, data, method, declared_size, crc)], so that
    the central directory can say whatever a test needs (methods: 0 stored, 8 deflated)."""
    out, central = bytearray(), bytearray()
    for name, data, method, size, crc in members:
        encoded = name.encode()
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0, crc, len(data), size, len(encoded), 0)
        out += encoded + data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0, crc, len(data), size,
                               len(encoded), 0, 0, 0, 0, 0, offset) + encoded
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), len(out), 0)
    Path(path).write_bytes(bytes(out + central + end))


def stored(name, data):
    return (name, data, 0, len(data), zlib.crc32(data))


def write_arrays(path, arrays):
    """np.savez to exactly ``path``; bytes values are written as raw member data."""
    members = [stored(f"{name}.npy", value if isinstance(value, bytes) else npy_bytes(value))
               for name, value in arrays.items()]
    write_zip(path, members)


def bomb_member(name: str, dim: int, inflated: int):
    """A deflated .npy member of float32 rows that really inflates to about ``inflated`` bytes of zeros,
    with the right CRC: what np.load would inflate in full before looking at it."""
    mega = b"\0" * (1 << 20)
    rows = inflated // (4 * dim)
    header = npy_header("<f4", (rows, dim))
    total = rows * 4 * dim
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    # After a full flush deflate starts afresh, so every megabyte of zeros compresses to the same bytes.
    head = packer.compress(header) + packer.flush(zlib.Z_FULL_FLUSH)
    block = packer.compress(mega) + packer.flush(zlib.Z_FULL_FLUSH)
    assert packer.compress(mega) + packer.flush(zlib.Z_FULL_FLUSH) == block
    full, rest = divmod(total, len(mega))
    tail = packer.compress(mega[:rest]) + packer.flush()
    crc = zlib.crc32(header)
    for _ in range(full):
        crc = zlib.crc32(mega, crc)
    crc = zlib.crc32(mega[:rest], crc)
    data = head + block * full + tail
    return (f"{name}.npy", data, 8, len(header) + total, crc)


def read_members(path) -> dict:
    """The arrays of one of our own (trusted) files, as np.load reads them."""
    with np.load(path, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


# ---------------------------------------------------------------------------------------------
# The archive reader itself


def test_a_field_is_checked_against_its_spec_before_its_data(tmp_path):
    path = tmp_path / "a.npz"
    write_arrays(path, {"rows": np.ones((3, 2), np.float32), "ids": np.arange(4), "name": np.array("x")})
    with Archive(str(path), "a test archive") as archive:
        assert archive.read("rows", Field("f", 2), (3, None)).shape == (3, 2)
        assert archive.read_text("name", Field("U", 0)) == "x"
        assert archive.read("missing", Field("f", 1, required=False)) is None
        for name, spec, shape, message in [
                ("rows", Field("f", 2), (4, 2), "field rows: has shape (3, 2), expected (4, 2)"),
                ("rows", Field("iu", 2), None, "field rows: holds float32 values, expected 2-D integer"),
                ("ids", Field("iu", 2), None, "field ids: has shape (4,), expected 2-D integer"),
                ("name", Field("U", 0, max_bytes=2), None, "field name: 4 bytes, more than the 2"),
                ("missing", Field("f", 1), None, "field missing: missing")]:
            with pytest.raises(FastembError, match=message.replace("(", r"\(").replace(")", r"\)")):
                archive.read(name, spec, shape)


def test_big_endian_and_fortran_order_arrays_read_as_numpy_reads_them(tmp_path):
    rows = np.arange(12, dtype=np.float32).reshape(3, 4)
    path = tmp_path / "a.npz"
    write_arrays(path, {"big": rows.astype(">f4"), "fortran": np.asfortranarray(rows)})
    with Archive(str(path), "a test archive") as archive:
        for name in ("big", "fortran"):
            read = archive.read(name, Field("f", 2), (3, 4))
            assert read.dtype.isnative and np.array_equal(read, rows)


def test_members_past_the_memory_budget_are_refused_before_inflating(tmp_path):
    path = tmp_path / "a.npz"
    write_arrays(path, {"rows": np.ones((300, 100), np.float32)})
    with pytest.raises(FastembError, match="members declare 120,128 bytes in all, more than the 1,000 bytes"):
        Archive(str(path), "a test archive", budget=1000)


def test_an_object_array_is_never_unpickled(tmp_path):
    path = tmp_path / "a.npz"
    write_arrays(path, {"rows": np.array([{"x": 1}, None], dtype=object)})
    with Archive(str(path), "a test archive") as archive:
        with pytest.raises(FastembError, match="field rows: dtype object is not allowed"):
            archive.read("rows", Field("f", 1))


# ---------------------------------------------------------------------------------------------
# Checkpoints: `fastemb resume`


@pytest.fixture(scope="module")
def checkpoint_run(tmp_path_factory):
    """A finished two-thread run's checkpoint, turned back to the start of its last epoch (a valid
    mid-run checkpoint), as (directory, arrays, meta)."""
    directory = tmp_path_factory.mktemp("ckpt")
    rng = np.random.default_rng(0)
    words = np.array([f"w{i}" for i in range(60)])
    (directory / "corpus.txt").write_text("\n".join(" ".join(rng.choice(words, 12)) for _ in range(400)) + "\n")
    done = run_cli("skipgram", directory / "corpus.txt", "-o", directory / "v.txt", "--checkpoint",
                   directory / "run.ckpt", "--dim", 8, "--epochs", 2, "--min-count", 1, "--threads", 2, "-q")
    assert done.returncode == 0, done.stderr
    arrays = read_members(directory / "run.ckpt")
    meta = json.loads(arrays["meta"].tobytes())
    meta["epoch"] = 1
    return directory, arrays, meta


def _blob(value) -> np.ndarray:
    text = value if isinstance(value, bytes) else json.dumps(value).encode()
    return np.frombuffer(text, dtype=np.uint8)


def _meta(edit):
    def apply(arrays, meta):
        meta = json.loads(json.dumps(meta))
        edit(meta)
        return {**arrays, "meta": _blob(meta)}
    return apply


def _set(name, value_of):
    return lambda arrays, meta: {**arrays, "meta": _blob(meta), name: value_of(arrays[name])}


def _drop(name):
    return lambda arrays, meta: {k: v for k, v in {**arrays, "meta": _blob(meta)}.items() if k != name}


def _words(text: bytes):
    return _set("words", lambda _: np.frombuffer(text, dtype=np.uint8))


def _first(array, value):
    array = array.copy()
    array.flat[0] = value
    return array


CHECKPOINT_CASES = {
    **{f"no {name}": (_drop(name), f"field {name}: missing")
       for name in ("words", "counts", "input_rows", "output_rows", "progress", "losses", "next_chunk")},
    "no meta": (_drop("meta"), "not a fastemb checkpoint"),
    "meta not JSON": (lambda arrays, meta: {**arrays, "meta": _blob(b"{\"format\"")}, "field meta: not valid JSON"),
    "meta a list": (lambda arrays, meta: {**arrays, "meta": _blob([1, 2])}, "wrong marker"),
    "meta of 2 MB": (lambda arrays, meta: {**arrays, "meta": np.zeros(2 << 20, np.uint8)},
                     "field meta: 2,097,152 bytes"),
    "meta 2-D": (lambda arrays, meta: {**arrays, "meta": _blob(meta).reshape(1, -1)}, "field meta: has shape"),
    "format version 99": (_meta(lambda m: m.update(format_version=99)), "format version 99 is not supported"),
    "config a list": (_meta(lambda m: m.update(config=[1])), "field meta: config is a JSON list"),
    "config unknown key": (_meta(lambda m: m["config"].update(colour=1)), "unknown setting 'colour'"),
    "config dim a string": (_meta(lambda m: m["config"].update(dim="8")), "config: dim is '8', expected int"),
    "config dim float": (_meta(lambda m: m["config"].update(dim=8.0)), "config: dim is 8.0, expected int"),
    "config window 10^20": (_meta(lambda m: m["config"].update(window=10**20)), "window is 100000000000000000000"),
    "config lr NaN": (_meta(lambda m: m["config"].update(lr=float("nan"))), "lr is nan"),
    "config negative zero": (_meta(lambda m: m["config"].update(negative=0)), "--negative must be a positive"),
    "config kernel": (_meta(lambda m: m["config"].update(kernel=3)), "kernel is 3, expected str"),
    "epoch a string": (_meta(lambda m: m.update(epoch="x")), "field meta: epoch is 'x', expected int"),
    "epoch missing": (_meta(lambda m: m.pop("epoch")), "field meta: epoch is missing"),
    "epoch past the run": (_meta(lambda m: m.update(epoch=99)), "epoch is 99, outside 0..2"),
    "epochs without end": (_meta(lambda m: m["config"].update(epochs=2**62)),
                           "config: --epochs must be at most 10,000, got 4,611,686,018,427,387,904"),
    "input an endless device": (_meta(lambda m: m["run"].update(input="/dev/zero")),
                                "the checkpoint records the input /dev/zero, which is not a regular file"),
    "input a directory": (_meta(lambda m: m["run"].update(input=[m["run"]["input"], "/"])),
                          "the checkpoint records the input /, which is not a regular file"),
    "a shard outside the inputs": (_meta(lambda m: m.update(distributed={
        "round": 1, "rounds": 4, "words_done": 0.0, "round_words": 20_000, "combiner": "average", "cluster": "local:1",
        "shards": [[{"path": "/dev/zero", "start": 0, "end": None}]]})), "shard 0 reads /dev/zero"),
    "segment negative": (_meta(lambda m: m.update(segment=-3)), "segment is -3"),
    "loss_sum negative": (_meta(lambda m: m.update(loss_sum=-1.0)), "loss_sum is -1.0"),
    "run a list": (_meta(lambda m: m.update(run=[])), "field meta: run is a JSON list"),
    "run output a number": (_meta(lambda m: m["run"].update(output=5)), "run: output is 5, expected str"),
    "run without input": (_meta(lambda m: m["run"].pop("input")), "run: input is missing"),
    "segment_tokens zero": (_meta(lambda m: m["run"].update(segment_tokens=0)), "segment_tokens is 0"),
    "words invalid UTF-8": (_words(b"w0\nw\xff1\nw2"), "field words: invalid UTF-8 text at byte 4"),
    "words repeated": (_words(b"w0\nw0"), "field words: entry 2 ('w0') repeats entry 1"),
    "word empty": (_words(b"w0\n\nw2"), "field words: entry 2 ('') is empty"),
    "word with a space": (_words(b"w0\nw 1"), "field words: entry 2 ('w 1') is empty or contains whitespace"),
    "word too long": (_words(b"w0\n" + b"x" * 1001), "field words: entry 2 is 1,001 characters long"),
    "empty vocabulary": (_words(b""), "field words: no words"),
    "hs with one word": (lambda arrays, meta: {**_meta(lambda m: m["config"].update(loss="hs"))(arrays, meta),
                                               "words": _blob(b"w0"), "counts": arrays["counts"][:1],
                                               "input_rows": arrays["input_rows"][:1],
                                               "output_rows": arrays["output_rows"][:0]},
                         "field words: loss hs needs at least 2 words, the file has 1"),
    "counts one short": (_set("counts", lambda a: a[:-1]), "field counts: has shape"),
    "counts float": (_set("counts", lambda a: a.astype(np.float64)), "field counts: holds float64"),
    "counts negative": (_set("counts", lambda a: _first(a, -4)), "field counts: entry 1 is negative"),
    "counts uint64 huge": (_set("counts", lambda a: _first(a.astype(np.uint64), 2**64 - 1)), "count is out of range"),
    "input_rows strings": (_set("input_rows", lambda a: a.astype("U4")), "field input_rows: holds <U4"),
    "input_rows complex": (_set("input_rows", lambda a: a.astype(np.complex64)), "field input_rows: holds complex64"),
    "input_rows an object": (_set("input_rows", lambda a: np.array([None, 1], dtype=object)), "dtype object"),
    "input_rows wider": (_set("input_rows", lambda a: np.ones((len(a), 9), np.float32)), "field input_rows: has shape"),
    "input_rows NaN": (_set("input_rows", lambda a: _first(a, np.nan)), "field input_rows: row 0 holds NaN"),
    "output_rows float64 overflow": (_set("output_rows", lambda a: _first(a.astype(np.float64), 1e300)),
                                     "field output_rows: row 0 holds NaN or infinite"),
    "progress short": (_set("progress", lambda a: a[:16]), "field progress: has shape (16,), expected (32,)"),
    "progress negative": (_set("progress", lambda a: _first(a, -1)), "field progress: entry 0 is -1"),
    "losses NaN": (_set("losses", lambda a: _first(a, np.nan)), "field losses: entry 0 is nan"),
    "next_chunk negative": (_set("next_chunk", lambda a: _first(a, -10**9)),
                            "field next_chunk: entry 0 is -1000000000"),
    "next_chunk float": (_set("next_chunk", lambda a: a.astype(np.float32)), "field next_chunk: holds float32"),
    "next_chunk 0-D": (_set("next_chunk", lambda a: np.array(3)), "field next_chunk: has shape ()"),
    "a shape that lies": (_set("input_rows", lambda a: npy_header("<f4", (10**6, 8)) + a.tobytes()),
                          "field input_rows: its header declares (1000000, 8) float32 values (32,000,000 bytes)"),
    "a negative shape": (_set("counts", lambda a: npy_header("<i8", (-2, -2)) + a[:4].tobytes()),
                         "field counts: its header declares the shape (-2, -2), with a negative length"),
    "a header that is not one": (_set("counts", lambda a: b"\x93NUMPY\x01\x00\x10\x00{'descr': x}     \n"),
                                 "field counts: not a valid .npy array"),
}


def resume_guarded(path):
    """``fastemb resume -q path`` in a subprocess; a lie that makes it train forever (or wait for an answer
    that never comes) ends in TimeoutExpired instead of a hung test."""
    return subprocess.run([sys.executable, "-m", "fastemb.cli", "resume", str(path), "-q"], capture_output=True,
                          text=True, timeout=120)


def test_the_untouched_mid_run_checkpoint_resumes(checkpoint_run, tmp_path):
    directory, arrays, meta = checkpoint_run
    path = directory / "good.ckpt"
    write_arrays(path, {**arrays, "meta": _blob(meta)})
    done = run_cli("resume", path, "-q")
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("case", list(CHECKPOINT_CASES))
def test_a_lying_checkpoint_is_one_error_line(checkpoint_run, case):
    directory, arrays, meta = checkpoint_run
    edit, message = CHECKPOINT_CASES[case]
    path = directory / (case.replace(" ", "-") + ".ckpt")
    write_arrays(path, edit(arrays, meta))
    assert_one_error_line(resume_guarded(path), path, message)


def test_resume_connects_to_no_cluster_the_checkpoint_records(checkpoint_run):
    """A recorded scheduler address is refused before any connection: the command line says where to go."""
    import socket
    directory, arrays, meta = checkpoint_run
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0)
        address = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
        record = {"round": 1, "rounds": 4, "words_done": 0.0, "round_words": 20_000, "combiner": "average",
                  "cluster": address, "shards": [[{"path": meta["run"]["input"], "start": 0, "end": None}]]}
        path = directory / "remote.ckpt"
        write_arrays(path, {**arrays, "meta": _blob({**meta, "distributed": record})})
        assert_one_error_line(resume_guarded(path), path, address, "pass --cluster ADDRESS")
        with pytest.raises(BlockingIOError):
            listener.accept()


def _zip_of(arrays, meta, replace: dict):
    """The checkpoint's members, stored, with some replaced by raw (name, data, method, size, crc) tuples."""
    members = [stored(f"{name}.npy", npy_bytes(value)) for name, value in {**arrays, "meta": _blob(meta)}.items()]
    return [replace.get(member[0], member) for member in members]


def test_declared_sizes_far_above_the_files_are_refused_before_reading(checkpoint_run):
    directory, arrays, meta = checkpoint_run
    rows = npy_bytes(arrays["input_rows"])
    cases = {
        "stored-lie": (("input_rows.npy", rows, 0, 10**9, zlib.crc32(rows)), "member input_rows.npy: stored"),
        "deflate-lie": (("input_rows.npy", zlib.compress(rows)[2:-4], 8, 4 * 10**9, 0),
                        "member input_rows.npy: declares 4,000,000,000 bytes inflated from"),
    }
    for name, (member, message) in cases.items():
        path = directory / f"{name}.ckpt"
        write_zip(path, _zip_of(arrays, meta, {"input_rows.npy": member}))
        assert_one_error_line(run_cli("resume", path, "-q"), path, message)
    path = directory / "truncated.ckpt"
    write_arrays(path, {**arrays, "meta": _blob(meta)})
    path.write_bytes(path.read_bytes()[:-2000])
    assert_one_error_line(run_cli("resume", path, "-q"), path, "not a fastemb checkpoint")
    # An entry whose data would lie past the end of the file.
    path = directory / "past-the-end.ckpt"
    write_zip(path, _zip_of(arrays, meta, {}))
    data = bytearray(path.read_bytes())
    entry = data.rfind(b"PK\x01\x02" + struct.pack("<HH", 20, 20), 0, data.rfind(b"input_rows.npy"))
    data[entry + 20:entry + 24] = struct.pack("<I", 10**9)  # the central directory's compressed size
    path.write_bytes(bytes(data))
    assert_one_error_line(run_cli("resume", path, "-q"), path, "member input_rows.npy: declares 1,000,000,000 stored")


def test_a_zip_bomb_checkpoint_is_refused_in_bounded_memory(checkpoint_run):
    directory, arrays, meta = checkpoint_run
    path = directory / "bomb.ckpt"
    bomb = bomb_member("input_rows", 8, 1100 << 20)
    assert zlib.decompressobj(-15).decompress(bomb[1], 1 << 16)[:6] == b"\x93NUMPY"  # a real deflate stream
    write_zip(path, _zip_of(arrays, meta, {"input_rows.npy": bomb}))
    assert path.stat().st_size < 4 << 20 and bomb[3] > 1 << 30
    # --init reads the corpus (and loads its kernels) before the checkpoint: a higher floor, far below the bomb.
    for command, most_mb in ((["resume", path, "-q"], 200),
                             (["skipgram", directory / "corpus.txt", "-o", directory / "init.txt", "--init", path,
                               "--dim", 8, "-q"], 400)):
        done, peak_mb = run_measured(*command)
        assert_one_error_line(done, path, "member input_rows.npy: declares", "zip bomb")
        assert peak_mb < most_mb, (command[0], peak_mb)


# ---------------------------------------------------------------------------------------------
# Models: `fastemb predict`


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    directory = tmp_path_factory.mktemp("model")
    train = directory / "train.txt"
    train.write_text("".join(LABELLED_TRAIN.read_text().splitlines(keepends=True)[:600]))
    model = train_supervised(str(train), SupervisedConfig(dim=8, epochs=2, word_ngrams=2, buckets=5000, threads=1))
    model.save(str(directory / "model.npz"))
    (directory / "lines.txt").write_text("a b c\n\nunknown words here\n")
    return directory, read_members(directory / "model.npz")


def _config_edit(edit):
    def apply(arrays):
        config = json.loads(str(arrays["config"]))
        edit(config)
        return {**arrays, "config": np.array(json.dumps(config))}
    return apply


def _model_set(name, value_of):
    return lambda arrays: {**arrays, name: value_of(arrays[name])}


MODEL_FIELDS = ("format_version", "config", "words", "labels", "word_counts", "label_counts", "input_rows",
                "output_rows", "bucket_ids", "bucket_rows", "initial_sample_ids", "initial_sample_rows")
MODEL_CASES = {
    **{f"no {name}": (lambda arrays, name=name: {k: v for k, v in arrays.items() if k != name},
                      f"field {name}: missing") for name in MODEL_FIELDS},
    "no magic": (lambda arrays: {k: v for k, v in arrays.items() if k != "magic"}, "no fastemb marker"),
    "wrong magic": (_model_set("magic", lambda a: np.array("something else")), "wrong marker"),
    "magic of bytes": (_model_set("magic", lambda a: np.zeros(3, np.int8)), "field magic: holds int8"),
    "format version 99": (_model_set("format_version", lambda a: np.array(99)), "model format version 99"),
    "format version a string": (_model_set("format_version", lambda a: np.array("2")),
                                "field format_version: holds <U1"),
    "config not JSON": (_model_set("config", lambda a: np.array("{dim")), "field config: not valid JSON"),
    "config a list": (_model_set("config", lambda a: np.array("[]")), "field config is a JSON list"),
    "word_ngrams a string": (_config_edit(lambda c: c.update(word_ngrams="2")), "word_ngrams is '2', expected int"),
    "buckets negative": (_config_edit(lambda c: c.update(buckets=-1)), "--buckets must be a positive integer"),
    "buckets too many for memory": (_config_edit(lambda c: c.update(buckets=2**30)), "needs", "memory available"),
    "dim another": (_config_edit(lambda c: c.update(dim=9)), "field output_rows: has shape"),
    "loss unknown": (_config_edit(lambda c: c.update(loss="hinge")), "--loss must be one of"),
    "seed 2^70": (_config_edit(lambda c: c.update(seed=2**70)), "seed is 1180591620717411303424, out of range"),
    "empty labels": (_model_set("labels", lambda a: np.array("")), "field labels: no labels"),
    "hs with one label": (lambda arrays: {**_config_edit(lambda c: c.update(loss="hs"))(arrays),
                                          "labels": np.array(str(arrays["labels"]).split("\n")[0]),
                                          "label_counts": arrays["label_counts"][:1],
                                          "output_rows": arrays["output_rows"][:0]},
                          "field labels: loss hs needs at least 2 labels, the file has 1"),
    "a label without the prefix": (_model_set("labels", lambda a: np.array(str(a) + "\nother")),
                                   "field labels: a label does not start with"),
    "words invalid text": (_model_set("words", lambda a: np.frombuffer(b"\x00\xd8\x00\x00", "<U1").reshape(())),
                           "field words: invalid UTF-32 text"),
    "words repeated": (_model_set("words", lambda a: np.array(str(a) + "\n" + str(a).split("\n")[0])),
                       "field words: entry"),
    "word_counts short": (_model_set("word_counts", lambda a: a[:-1]), "field word_counts: has shape"),
    "label_counts negative": (_model_set("label_counts", lambda a: _first(a, -1)), "field label_counts: entry 1"),
    "input_rows strings": (_model_set("input_rows", lambda a: a.astype("U3")), "field input_rows: holds <U3"),
    "input_rows complex": (_model_set("input_rows", lambda a: a.astype(np.complex64)), "holds complex64"),
    "output_rows NaN": (_model_set("output_rows", lambda a: _first(a, np.nan)), "field output_rows: row 0 holds NaN"),
    "output_rows one label short": (_model_set("output_rows", lambda a: a[:-1]), "field output_rows: has shape"),
    "bucket id out of range": (_model_set("bucket_ids", lambda a: _first(a, 5000)), "field bucket_ids: a bucket id"),
    "bucket id negative": (_model_set("bucket_ids", lambda a: _first(a, -1)), "field bucket_ids: a bucket id"),
    "bucket ids unsorted": (_model_set("bucket_ids", lambda a: a[::-1].copy()), "not strictly increasing"),
    "bucket_rows short": (_model_set("bucket_rows", lambda a: a[:-1]), "field bucket_rows: has shape"),
    "initial rows that do not regenerate": (_model_set("initial_sample_rows", lambda a: a + 1),
                                            "field initial_sample_rows: the bucket rows regenerated"),
    "a shape that lies": (_model_set("input_rows", lambda a: npy_header("<f4", (10**7, 8)) + a.tobytes()),
                          "field input_rows: its header declares (10000000, 8)"),
}


@pytest.mark.parametrize("case", list(MODEL_CASES))
def test_a_lying_model_is_one_error_line(model_file, case):
    directory, arrays = model_file
    edit, *messages = MODEL_CASES[case]
    path = directory / (case.replace(" ", "-") + ".npz")
    write_arrays(path, edit(arrays))
    assert_one_error_line(run_cli("predict", path, directory / "lines.txt"), path, *messages)


def test_the_untouched_model_predicts(model_file):
    directory, arrays = model_file
    done = run_cli("predict", directory / "model.npz", directory / "lines.txt")
    assert done.returncode == 0 and len(done.stdout.splitlines()) == 3, done.stderr


def test_a_zip_bomb_model_is_refused_in_bounded_memory(model_file):
    directory, arrays = model_file
    path = directory / "bomb.npz"
    members = [stored(f"{name}.npy", npy_bytes(value)) for name, value in arrays.items() if name != "input_rows"]
    write_zip(path, members + [bomb_member("input_rows", 100, 1100 << 20)])
    assert path.stat().st_size < 4 << 20
    done, peak_mb = run_measured("predict", path, directory / "lines.txt")
    assert_one_error_line(done, path, "member input_rows.npy", "zip bomb")
    assert peak_mb < 200, peak_mb


# ---------------------------------------------------------------------------------------------
# Settings a trainer refuses are refused by every reader of a model file


def test_a_fasttext_classifier_that_fastemb_would_not_train_is_one_error_line(tmp_path):
    """Hierarchical softmax over one label has no tree: fastText's file holds one output row, and scoring
    would read past it."""
    from fastemb.formats.fasttext import FastTextModelFile
    rows = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    args = {"model": "sup", "loss": "hs", "dim": 4, "bucket": 0, "minn": 0, "maxn": 0, "wordNgrams": 1, "minCount": 1}
    path = tmp_path / "model.bin"
    FastTextModelFile.from_arrays(args, ["a", "b", "</s>"], [3, 2, 5], ["__label__x"], [5], rows, rows[:1]).save(
        str(path))
    (tmp_path / "lines.txt").write_text("a b\n")
    assert_one_error_line(run_cli("predict", path, tmp_path / "lines.txt", "--probabilities"), path,
                          "loss hs needs at least 2 labels, the file has 1")
    assert_one_error_line(run_cli("vectors", path, "a"), path, "loss hs needs at least 2 labels")
    args.update(model="sg", loss="softmax", minCount=1)  # fastText trains word models with softmax too:
    FastTextModelFile.from_arrays(args, ["a", "b", "</s>"], [3, 2, 5], [], [], rows, rows).save(str(path))
    shown = run_cli("vectors", path, "a")  # their input rows are word vectors as any other's
    assert shown.returncode == 0 and shown.stdout.split()[0] == "a", shown.stderr


def test_a_word2vec_model_with_hs_over_one_word_is_one_error_line(tmp_path):
    from fastemb.base.config import Word2VecConfig
    from fastemb.models.word2vec import Word2VecModel
    from fastemb.text.vocab import Vocab
    path = tmp_path / "model.npz"
    Word2VecModel(Vocab(["a"], np.array([3])), np.ones((1, 4), np.float32), np.zeros((0, 4), np.float32),
                  Word2VecConfig(loss="hs", dim=4, threads=1, min_count=1), {}).save(str(path))
    assert_one_error_line(run_cli("neighbors", path, "a"), path, "field words: loss hs needs at least 2 words")


# ---------------------------------------------------------------------------------------------
# A memory-mapped file that changes while it is read


TRUNCATE_AFTER_READING = """
import os, sys
from fastemb.formats import fasttext
read = fasttext.read_fasttext

def read_then_truncate(path):
    model = read(path)  # checked and mapped: now another program cuts the file
    os.truncate(path, 0)
    return model

fasttext.read_fasttext = read_then_truncate
from fastemb.cli import main
main(sys.argv[1:], prog_name="fastemb")
"""


def test_a_fasttext_model_truncated_while_mapped_is_one_error_line_not_a_bus_error(tmp_path):
    from fastemb.formats.fasttext import FastTextModelFile
    rows = np.random.default_rng(0).normal(size=(2, 4)).astype(np.float32)
    path = tmp_path / "model.bin"
    FastTextModelFile.from_arrays({"dim": 4, "bucket": 0, "minn": 0, "maxn": 0, "minCount": 1}, ["a", "b"], [2, 1],
                                  [], [], rows, rows).save(str(path))
    done = subprocess.run([sys.executable, "-c", TRUNCATE_AFTER_READING, "vectors", str(path), "a"],
                          capture_output=True, text=True)
    assert_one_error_line(done, path, "the file changed")


# ---------------------------------------------------------------------------------------------
# Compact classifier models


def test_a_compact_model_predicts_exactly_as_the_full_one(tmp_path):
    """--word-ngrams 2: the saved model keeps the bucket rows training used; the format-1 file (every
    bucket row) and the compact one give the same predictions, to the last bit, and re-saving a
    loaded full model finds the same rows by comparing with the initial values."""
    out = tmp_path / "m.npz"
    done = run_cli("supervised", LABELLED_TRAIN, "-o", out, "--word-ngrams", 2, "--dim", 10, "--threads", 1,
                   "--epochs", 3)  # fastText's (and our) default of 2 M buckets
    assert done.returncode == 0, done.stderr
    assert f"Saved {out} ({out.stat().st_size / 2**20:,.1f} MB)" in done.stdout
    compact = load_model(str(out))
    n_words = len(compact.words)
    assert 0 < len(compact.trained_buckets) < 2_000_000
    full = tmp_path / "full.npz"  # the same model as format 1 wrote it: every row
    arrays = read_members(out)
    arrays = {name: value for name, value in arrays.items() if name not in (
        "bucket_ids", "bucket_rows", "initial_sample_ids", "initial_sample_rows")}
    arrays.update(format_version=np.array(1), input_rows=compact.input_rows)
    write_arrays(full, arrays)
    assert out.stat().st_size < full.stat().st_size / 10
    predictions = [run_cli("predict", path, LABELLED_TEST, "-k", -1, "--probabilities").stdout for path in (out, full)]
    assert predictions[0] == predictions[1] and len(predictions[0].splitlines()) == 1000
    resaved = load_model(str(full))
    assert resaved.trained_buckets is None
    np.testing.assert_array_equal(resaved.input_rows.view(np.uint32), compact.input_rows.view(np.uint32))
    changed = resaved.stored_bucket_ids()
    assert np.isin(changed, compact.trained_buckets).all() and len(changed) > 0.9 * len(compact.trained_buckets)
    resaved.save(str(tmp_path / "again.npz"))
    again = load_model(str(tmp_path / "again.npz"))
    np.testing.assert_array_equal(again.input_rows.view(np.uint32), compact.input_rows.view(np.uint32))
    assert np.array_equal(again.input_rows[:n_words], compact.vectors.matrix)


def test_a_model_without_ngrams_stores_no_bucket_rows(tmp_path):
    train = tmp_path / "train.txt"
    train.write_text("".join(LABELLED_TRAIN.read_text().splitlines(keepends=True)[:200]))
    model = train_supervised(str(train), SupervisedConfig(dim=4, epochs=1, threads=1))
    model.save(str(tmp_path / "m.npz"))
    loaded = load_model(str(tmp_path / "m.npz"))
    assert len(read_members(tmp_path / "m.npz")["bucket_ids"]) == 0
    assert np.array_equal(loaded.input_rows, model.input_rows)


# ---------------------------------------------------------------------------------------------
# Vectors files: `fastemb neighbors`


VECTOR_CASES = {
    "count 10^23": (b"100000000000000000000000 3\na 1 2 3\n", "file has 1 vector rows but the header says 1000"),
    "dim 10^9": (b"2 1000000000\na 1 2 3\n", "line 1: the header declares vectors of dimension 1,000,000,000"),
    "word of 5,000 bytes": (b"2 3\na 1 2 3\n" + b"x" * 5000 + b" 1 2 3\n", "line 3: the word 'xxxx"),
    "word of 1,001 characters": (b"2 3\na 1 2 3\n" + "é".encode() * 1001 + b" 1 2 3\n",
                                 "longer than 1,000 characters"),
    "binary word without end": (b"2 3\na " + b"\0" * 12 + b"\n" + b"x" * 50_000, "record 2: the word"),
    "NaN": (b"2 3\na 1 2 3\nb 1 nan 3\n", "line 3: NaN or infinite value"),
    "overflow": (b"2 3\na 1 2 3\nb 1 1e39 3\n", "line 3: NaN or infinite value"),
    "complex": (b"2 3\na 1 2 3\nb 1 1+2j 3\n", "line 3: '1+2j' is not a number"),
    "binary NaN": (b"2 3\na " + np.array([1, 2, 3], "<f4").tobytes() + b"\nb "
                   + np.array([1, np.nan, 3], "<f4").tobytes() + b"\n", "record 2: NaN or infinite value"),
    "a value field of 1 MB": (b"2 3\na 1 2 3\nb " + b"1" * (1 << 20) + b" 2 3\n", "line 3: line longer than"),
}


@pytest.mark.parametrize("case", list(VECTOR_CASES))
def test_a_lying_vectors_file_is_one_error_line(tmp_path, case):
    content, message = VECTOR_CASES[case]
    path = tmp_path / "v.bin"
    path.write_bytes(content)
    assert_one_error_line(run_cli("neighbors", path, "a"), path, message)


def test_a_gzipped_header_is_held_to_what_the_archive_can_inflate_to(tmp_path):
    import gzip
    path = tmp_path / "v.txt.gz"
    path.write_bytes(gzip.compress(b"1000000000000 300\na " + b"1 " * 300 + b"\n"))
    assert_one_error_line(run_cli("neighbors", path, "a"), path, "file has 1 vector rows but the header says")


def test_one_endless_line_is_refused_after_reading_a_bounded_prefix(tmp_path, monkeypatch):
    """A 64 MB line (a 1 GB one behaves the same): reading stops within a few read blocks of its start."""
    path = tmp_path / "v.txt"
    with open(path, "wb") as handle:
        handle.write(b"2 3\na 1 2 3\n")
        handle.write(b"x" * (64 << 20))
    read = []
    opened = word2vec_format.open_binary

    class Counting:
        def __init__(self, name):
            self.handle = opened(name)

        def read(self, size=-1):
            data = self.handle.read(size)
            read.append(len(data))
            return data

        def __getattr__(self, name):
            return getattr(self.handle, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            self.handle.close()
    monkeypatch.setattr(word2vec_format, "open_binary", Counting)
    with pytest.raises(FastembError, match="line 3: the word 'x"):
        vectors_module.load_vectors(str(path))
    assert sum(read) < 3 * word2vec_format._READ_CHUNK_BYTES + (1 << 20)


def test_our_own_longest_words_still_load(tmp_path):
    """A corpus token of 1,000 invalid bytes becomes 1,000 U+FFFD: 3,000 bytes in the file, still a word."""
    word = "\ufffd" * 1000
    vectors_module.save_vectors(str(tmp_path / "v.txt"), [word, "b"], np.ones((2, 3), np.float32))
    assert vectors_module.load_vectors(str(tmp_path / "v.txt")).words == [word, "b"]

