"""Reading .npz archives (checkpoints, models) that may lie, and the checks their fields share.

Nothing is inflated or allocated on a file's word alone. Opening an archive checks
every member's declared sizes against the file's length and against the memory
available, before decompressing a byte; each field's ``.npy`` header (dtype, shape,
order) is read and checked against the reader's :class:`Field` spec, and against the
member's declared size, before its data; the data is read into an array of exactly
that size. Pickled objects are never loaded (object dtypes are refused outright).

Every problem is a :class:`FastembError` naming the file and the member or field.
"""
from __future__ import annotations

import io
import json
import math
import os
import re
import sys
import zipfile
import zlib
from dataclasses import dataclass, fields

import numpy as np

from ..base.errors import FastembError
from ..base.fileio import check_readable
from ..base import limits
from ..base.checks import check_value
from ..base.limits import megabytes

# The most a member may inflate: deflate's own limit is ~1032:1, reached only by long runs
# of one byte. fastemb writes its archives uncompressed (ratio 1); float rows recompressed
# by a user shrink by a few percent, vocabularies by 3-10x. Anything past this is a bomb.
MAX_INFLATION = 100
_INFLATION_SLACK = 1 << 16        # tiny members (headers, scalars) may compress better than large ones
_NPY_HEADER_MAX = 10_000          # numpy's own limit on an .npy header's length
_READ_BYTES = 1 << 22             # data is copied into its array this many bytes at a time
_COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)  # what np.savez / np.savez_compressed write


@dataclass(frozen=True)
class Field:
    """What one member of an archive must hold.

    ``kinds``: accepted numpy dtype kinds ("f" float, "iu" integers, "U" text, "b" bool);
    ``itemsizes``: accepted item sizes in bytes (None: any); ``ndim``: number of axes;
    ``max_bytes``: a cap on the data of fields that are always small (markers, settings).
    """

    kinds: str
    ndim: int
    required: bool = True
    itemsizes: tuple[int, ...] | None = None
    max_bytes: int | None = None

    def describe(self) -> str:
        names = {"f": "float", "i": "integer", "u": "integer", "U": "text", "b": "bool"}
        kinds = " or ".join(dict.fromkeys(names.get(kind, kind) for kind in self.kinds))
        return f"{self.ndim}-D {kinds}" if self.ndim else f"a single {kinds} value"


@dataclass(frozen=True)
class Header:
    dtype: np.dtype
    shape: tuple[int, ...]
    fortran_order: bool
    offset: int                   # bytes of magic and header before the data

    @property
    def n_bytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


class Archive:
    """An .npz file opened for checked reading: ``with Archive(path, "a fastemb model") as archive: ...``.

    ``what`` names the expected kind of file in "not <what>" errors. Members are
    only ever read through :meth:`read` (and its text/JSON helpers), whose ``Field``
    says what the member must be.
    """

    def __init__(self, path: str, what: str, budget: int | None = None):
        self.path, self.what = path, what
        check_readable(path)
        try:
            size = os.path.getsize(path)
            with open(path, "rb") as handle:
                start = handle.read(6)
        except OSError as exc:
            raise FastembError(f"{path}: cannot read ({exc.strerror or exc})") from None
        if start.startswith(b"\x93NUMPY"):
            raise FastembError(f"{path}: not {what} (a single .npy array, not an archive)")
        try:
            self._zip = zipfile.ZipFile(path)
        except (OSError, zipfile.BadZipFile, ValueError, EOFError, NotImplementedError):
            raise FastembError(f"{path}: not {what} (not an .npz archive)") from None
        self.members: dict[str, zipfile.ZipInfo] = {}
        try:
            self._check_members(size, limits.available_memory() if budget is None else budget)
        except BaseException:
            self._zip.close()
            raise
        self._headers: dict[str, Header] = {}

    def __enter__(self) -> "Archive":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()

    def __contains__(self, name: str) -> bool:
        return name in self.members

    def fail(self, name: str, problem: str):
        raise FastembError(f"{self.path}: field {name}: {problem}")

    # -- the zip level: declared sizes ---------------------------------------------------------

    def _check_members(self, file_size: int, budget: int | None) -> None:
        declared = 0
        for info in self._zip.infolist():
            where = f"{self.path}: member {info.filename}"
            if not info.filename.endswith(".npy"):
                continue  # never read
            name = info.filename[:-4]
            if name in self.members:
                raise FastembError(f"{where}: stored twice (a damaged or crafted archive)")
            if info.flag_bits & 0x1:
                raise FastembError(f"{where}: encrypted; fastemb archives never are")
            if info.compress_type not in _COMPRESSIONS:
                raise FastembError(f"{where}: compression method {info.compress_type} is not one numpy writes")
            if info.header_offset + info.compress_size > file_size:
                raise FastembError(f"{where}: declares {info.compress_size:,} stored bytes at offset "
                                   f"{info.header_offset:,}, past the end of the file ({file_size:,} bytes): "
                                   "truncated or damaged")
            if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
                raise FastembError(f"{where}: stored uncompressed, yet declares {info.file_size:,} bytes "
                                   f"in {info.compress_size:,}: damaged or crafted")
            if info.file_size > MAX_INFLATION * info.compress_size + _INFLATION_SLACK:
                raise FastembError(f"{where}: declares {info.file_size:,} bytes inflated from "
                                   f"{info.compress_size:,} (more than {MAX_INFLATION} times): a zip bomb or a "
                                   "damaged file; not inflating it")
            declared += info.file_size
            self.members[name] = info
        if budget is not None and declared > budget:
            raise FastembError(f"{self.path}: its members declare {megabytes(declared)} in all, more than the "
                               f"{megabytes(budget)} of memory available")

    # -- the .npy level: header, then data -----------------------------------------------------

    def header(self, name: str, spec: Field) -> Header | None:
        """The member's .npy header, checked against ``spec`` and the member's declared size; None if absent."""
        info = self.members.get(name)
        if info is None:
            if spec.required:
                self.fail(name, "missing")
            return None
        header = self._headers.get(name) or self._parse_header(name, info)
        dtype, shape = header.dtype, header.shape
        if dtype.kind not in spec.kinds or (spec.itemsizes is not None and dtype.itemsize not in spec.itemsizes):
            self.fail(name, f"holds {dtype} values, expected {spec.describe()}")
        if len(shape) != spec.ndim:
            self.fail(name, f"has shape {shape}, expected {spec.describe()}")
        if spec.max_bytes is not None and header.n_bytes > spec.max_bytes:
            self.fail(name, f"{header.n_bytes:,} bytes, more than the {spec.max_bytes:,} such a field can hold")
        return header

    def _parse_header(self, name: str, info: zipfile.ZipInfo) -> Header:
        """Magic and header, from the member's first bytes only; the size they imply against the declared one."""
        try:
            with self._zip.open(info) as member:
                start = member.read(_NPY_HEADER_MAX + 16)
        except (OSError, zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError) as exc:
            self.fail(name, f"damaged ({exc})")
        stream = io.BytesIO(start)
        try:
            major, _ = np.lib.format.read_magic(stream)
            reader = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
            shape, fortran_order, dtype = reader(stream, max_header_size=_NPY_HEADER_MAX)
        except (ValueError, TypeError, SyntaxError, EOFError, OverflowError, MemoryError) as exc:
            self.fail(name, f"not a valid .npy array ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})")
        if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None or dtype.itemsize == 0:
            why = " (objects are never unpickled)" if dtype.hasobject else ""
            self.fail(name, f"dtype {dtype} is not allowed{why}")
        if any(n < 0 for n in shape):
            self.fail(name, f"its header declares the shape {shape}, with a negative length")
        header = Header(dtype, tuple(int(n) for n in shape), bool(fortran_order), stream.tell())
        if header.offset + header.n_bytes != info.file_size:
            self.fail(name, f"its header declares {header.shape} {dtype} values ({header.n_bytes:,} bytes), "
                            f"but the member holds {info.file_size - header.offset:,} bytes")
        self._headers[name] = header
        return header

    def check(self, spec: dict[str, Field]) -> None:
        """Every field of ``spec``: present if required, and with a header that fits it."""
        for name, field in spec.items():
            self.header(name, field)

    def read(self, name: str, spec: Field, shape: tuple[int | None, ...] | None = None) -> np.ndarray | None:
        """The member as an array in native byte order; ``shape`` (None = any length on that axis) checked
        before its data is read. None when an optional member is absent."""
        header = self.header(name, spec)
        if header is None:
            return None
        if shape is not None and any(want is not None and want != got for want, got in zip(shape, header.shape)):
            wanted = tuple("any" if n is None else n for n in shape)
            self.fail(name, f"has shape {header.shape}, expected {wanted}".replace("'any'", "any"))
        flat = np.empty(math.prod(header.shape), dtype=header.dtype)
        view = memoryview(flat).cast("B")
        try:
            with self._zip.open(self.members[name]) as member:
                member.read(header.offset)
                done = 0
                while done < len(view):
                    got = member.readinto(view[done:done + _READ_BYTES])
                    if not got:
                        raise EOFError(f"{len(view) - done:,} bytes missing")
                    done += got
                member.read(1)  # reaching the end makes zipfile check the CRC
        except (OSError, zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError) as exc:
            self.fail(name, f"damaged data ({exc})")
        array = flat.reshape(header.shape, order="F" if header.fortran_order else "C")
        if not array.dtype.isnative:
            array = array.astype(array.dtype.newbyteorder("="))
        return array

    # -- fields that hold text ------------------------------------------------------------------

    def read_text(self, name: str, spec: Field) -> str | None:
        """A text field: a 0-d unicode array, or a 1-D uint8 array of UTF-8 bytes."""
        array = self.read(name, spec)
        if array is None:
            return None
        try:
            if array.dtype.kind == "U":  # read() made it native: UTF-32 in this machine's byte order
                return array.tobytes().decode(f"utf-32-{sys.byteorder[0]}e").rstrip("\x00")
            if array.dtype.kind == "u" and array.dtype.itemsize == 1:
                return array.tobytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            encoding = "UTF-8" if array.dtype.kind == "u" else "UTF-32"
            self.fail(name, f"invalid {encoding} text at byte {exc.start:,}")
        self.fail(name, f"holds {array.dtype} values, expected text")

    def read_json(self, name: str, spec: Field):
        text = self.read_text(name, spec)
        if text is None:
            return None
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as exc:
            self.fail(name, f"not valid JSON ({exc})")

    def read_lines(self, name: str, spec: Field, max_chars: int | None = None) -> list[str] | None:
        """A newline-joined list of tokens (a vocabulary): non-empty, distinct, without whitespace."""
        text = self.read_text(name, spec)
        if text is None:
            return None
        items = text.split("\n") if text else []
        check_tokens(items, lambda problem: self.fail(name, problem), max_chars)
        return items

    def read_scalar_int(self, name: str, spec: Field) -> int | None:
        array = self.read(name, spec)
        return None if array is None else int(array)


_TOKEN_BREAK = re.compile(r"[ \t\r\x0b\x0c\x00]|\n\n|^\n|\n$")  # what the readers split tokens at


def check_tokens(items: list[str], fail, max_chars: int | None = None) -> None:
    """Words or labels as a reader hands them to the kernels: distinct, non-empty, no ASCII whitespace or NUL
    (a Unicode space may sit inside a token), at most ``max_chars`` characters each."""
    text = "\n".join(items)
    found = _TOKEN_BREAK.search(text) if items else None
    if found or (items and not items[0]):
        entry = text.count("\n", 0, found.start()) if found and "\n" not in found.group() else items.index("")
        fail(f"entry {entry + 1} ({items[entry][:40]!r}) is empty or contains whitespace")
    if max_chars is not None and items:
        longest = max(range(len(items)), key=lambda i: len(items[i]))
        if len(items[longest]) > max_chars:
            fail(f"entry {longest + 1} is {len(items[longest]):,} characters long, more than the "
                 f"{max_chars:,} a token can have")
    if len(set(items)) != len(items):
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            first = seen.setdefault(item, i)
            if first != i:
                fail(f"entry {i + 1} ({item[:40]!r}) repeats entry {first + 1}")


# -- settings stored as JSON ---------------------------------------------------------------------

def config_from_dict(cls, stored, where: str, ignore_unknown: bool = False, unbounded: tuple[str, ...] = ()):
    """``cls(**stored)`` after checking each value's type against ``cls``'s fields, then ``validate()``.

    ``unbounded`` names float settings allowed to be infinite. Unknown keys are an
    error unless ``ignore_unknown`` (a file written by a later version).
    """
    if not isinstance(stored, dict):
        raise FastembError(f"{where} is a JSON {type(stored).__name__}, expected an object of settings")
    known = {f.name: f for f in fields(cls)}
    kwargs = {}
    for key, value in stored.items():
        if key not in known:
            if ignore_unknown:
                continue
            raise FastembError(f"{where}: unknown setting {key[:40]!r}")
        annotation = known[key].type if isinstance(known[key].type, str) else getattr(known[key].type, "__name__", "")
        check_value(value, annotation, f"{where}: {key}", finite=key not in unbounded)
        kwargs[key] = value
    try:
        config = cls(**kwargs)  # checked as it is made
    except FastembError as exc:
        raise FastembError(f"{where}: {exc}") from None
    return config


def require(mapping: dict, key: str, annotation: str, where: str, default=...):
    """``mapping[key]`` checked against ``annotation``; ``default`` when absent (an error if none is given)."""
    if key not in mapping:
        if default is ...:
            raise FastembError(f"{where}: {key} is missing")
        return default
    check_value(mapping[key], annotation, f"{where}: {key}")
    return mapping[key]


def check_finite_rows(rows: np.ndarray, fail, block_rows: int = 1 << 14) -> None:
    """NaN or infinity anywhere in ``rows`` is refused, a block at a time (no whole-matrix mask)."""
    for start in range(0, len(rows), block_rows):
        block = rows[start:start + block_rows]
        finite = np.isfinite(block).reshape(len(block), -1).all(axis=1)
        if not finite.all():
            fail(f"row {start + int(np.argmin(finite))} holds NaN or infinite values")


def as_float32_rows(array: np.ndarray, fail) -> np.ndarray:
    """Float rows as C-contiguous float32, refusing values that are (or become) NaN or infinite."""
    with np.errstate(over="ignore", invalid="ignore"):
        rows = np.ascontiguousarray(array, dtype=np.float32)
    check_finite_rows(rows, fail)
    return rows


def as_counts(array: np.ndarray, fail) -> np.ndarray:
    """Non-negative int64 counts."""
    if array.dtype.kind == "u" and array.size and int(array.max()) > limits.INT64_MAX:
        fail("a count is out of range")
    counts = array.astype(np.int64)
    if counts.size and counts.min() < 0:
        fail(f"entry {int(np.argmin(counts)) + 1} is negative ({int(counts.min())})")
    return counts
