"""The ``fastemb`` command: a thin Click layer over the trainers and the vectors API; group.py holds the group
and its guard, and each command module adds its commands to it."""
from . import analyse, query, train  # noqa: F401 - they add their commands to main
from .group import main

__all__ = ["main"]
