"""What every public entry point checks of the values it is given, and what a model file's settings are checked
against: one FastembError naming the argument, what it holds and what was expected.

Types are named as dataclass fields annotate them ("int", "float | None", "str", "bool", ...). Booleans are not
numbers here (``dim=True`` is refused), while any integer passes for a float. Text must be something UTF-8 can
encode: a lone surrogate ('\\ud800') has no bytes to be written or hashed.
"""
from __future__ import annotations

import math
import numbers
import os
from dataclasses import fields
from typing import Iterable

from .errors import FastembError
from .limits import INT64_MAX

_KNOWN = {"int", "float", "str", "bool", "None", "list"}


def shown(value) -> str:
    """``value`` for a message: its repr (which escapes what a terminal cannot print), cut to 40 characters."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is(value, kind: str) -> bool:
    if kind == "None":
        return value is None
    if kind == "bool" or isinstance(value, bool):
        return kind == "bool" and isinstance(value, bool)
    if kind == "int":
        return isinstance(value, numbers.Integral)
    if kind == "float":
        return isinstance(value, numbers.Real)
    if kind == "str":
        return isinstance(value, str)
    return kind == "list" and isinstance(value, list) and all(isinstance(item, str) for item in value)


def check_type(value, annotation: str, where: str) -> None:
    """``value`` one of the types ``annotation`` names; an annotation naming none this knows is left to the
    caller's own checks."""
    allowed = [part.strip() for part in annotation.split("|")]
    if any(_is(value, kind) for kind in allowed) or not set(allowed) & _KNOWN:
        return
    raise FastembError(f"{where} is {shown(value)}, expected {' or '.join(allowed)}")


def check_value(value, annotation: str, where: str, finite: bool = True) -> None:
    """A stored (JSON) value: its type as ``check_type``, an integer within int64, a float not NaN (nor
    infinite, with ``finite``)."""
    check_type(value, annotation, where)
    allowed = {part.strip() for part in annotation.split("|")}
    if not allowed & {"int", "float"} or isinstance(value, bool):
        return
    if isinstance(value, numbers.Integral) and abs(value) > INT64_MAX:
        raise FastembError(f"{where} is {value}, out of range")
    if isinstance(value, float) and (math.isnan(value) or (finite and math.isinf(value))):
        raise FastembError(f"{where} is {value}, expected a finite number")


def check_fields(instance) -> None:
    """Every field of a dataclass ``instance`` of the type its annotation names."""
    for field in fields(instance):
        annotation = field.type if isinstance(field.type, str) else getattr(field.type, "__name__", "")
        check_type(getattr(instance, field.name), annotation, field.name)


def check_text(value, where: str) -> str:
    """``value`` a str that UTF-8 can encode; returned."""
    check_type(value, "str", where)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise FastembError(f"{where} is {shown(value)}, which UTF-8 cannot encode (a lone surrogate "
                           f"{value[exc.start]!r} at character {exc.start})") from None
    return value


def check_texts(values: Iterable, where: str) -> list[str]:
    """Every item of ``values`` (any iterable, read once) as ``check_text``, as a list; one join and one
    encode when all are good, item by item only to name the first that is not."""
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise FastembError(f"{where} is {shown(values)}, expected a list of str")
    values = list(values)
    try:
        "\n".join(values).encode("utf-8")
    except (TypeError, UnicodeEncodeError):
        for i, value in enumerate(values):
            check_text(value, f"{where}[{i}]")
    return values


def check_path(value, where: str = "path") -> str:
    """A file name: a str or an os.PathLike (returned as str) that the file system can encode."""
    if not isinstance(value, (str, os.PathLike)):
        raise FastembError(f"{where} is {shown(value)}, expected a path (str or os.PathLike)")
    path = os.fspath(value)
    if not isinstance(path, str):
        raise FastembError(f"{where} is {shown(value)}, expected a path (str or os.PathLike)")
    try:
        os.fsencode(path)
    except UnicodeEncodeError as exc:
        raise FastembError(f"{where} is {shown(path)}, which the file system cannot encode "
                           f"(character {exc.start})") from None
    return path
