"""The one exception type that the CLI turns into a single ``Error: ...`` line."""


class FastembError(ValueError):
    """Bad input or a failed write, explained in words a user can act on.

    The CLI prints ``Error: <message>`` and exits non-zero without a traceback;
    the Python API lets it propagate like any other exception. A ValueError, so that
    code written for fastText's Python module (which raises ValueError) catches it.
    """
