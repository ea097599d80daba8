"""The ``fastemb`` command group and what every command shares: the one guard that turns whatever goes wrong
into a line or two, the default inputs, the report file and the lines on stderr.

Nothing heavy is imported at module level, so ``fastemb --help`` stays instant; numba loads only when a
command trains.
"""
from __future__ import annotations

import contextlib
import errno
import os
import sys
from pathlib import Path

import click

from .. import __version__
from ..base.errors import FastembError

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
DEFAULT_CORPUS = DATA_DIR / "corpus.txt.gz"


class _Group(click.Group):
    """The one guard of every command: whatever goes wrong ends in a line or two, never a traceback.

    FastembError is one ``Error: ...`` line (exit 1). Ctrl-C, SIGTERM and SIGHUP stop the command
    cleanly (exit 130, 143, 129). A closed pipe on stdout ends quietly (exit 141, as a program killed
    by SIGPIPE), a full one with one line (exit 1). Anything else is a bug: ``Error: internal error:
    ...`` and a line asking to report it; ``--debug`` or FASTEMB_DEBUG=1 shows the traceback instead.
    """

    def invoke(self, ctx):
        from ..base.signals import stop_requests
        debug = ctx.params.get("debug") or os.environ.get("FASTEMB_DEBUG", "") not in ("", "0")
        try:
            with stop_requests():  # Ctrl-C, SIGTERM and SIGHUP become one KeyboardInterrupt, handled below
                result = super().invoke(ctx)
                sys.stdout.flush()
            return result
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except FastembError as exc:
            _fail(f"Error: {exc}", 1)
        except KeyboardInterrupt as exc:
            from ..base.fileio import written
            from ..base.signals import exit_code
            _fail("\nInterrupted: " + (f"{', '.join(written)} written before the stop." if written else
                                      "no output was written; any existing output file is unchanged."),
                  exit_code(exc))
        except OSError as exc:
            _end_if_stdout_failed(exc)
            if exc.filename is not None and not debug:
                _fail(f"Error: {exc.filename}: {exc.strerror or exc}", 1)
            _internal_error(exc, debug)
        except MemoryError as exc:
            if debug:
                raise
            _fail(f"Error: out of memory ({exc or 'MemoryError'}); lower --dim, --buckets or the vocabulary size", 1)
        except Exception as exc:  # noqa: BLE001 - the guard of last resort
            # Only a loaded trainer can have raised its Interrupted; importing it here could raise anew.
            trainer = sys.modules.get("fastemb.training.trainer")
            if trainer is not None and isinstance(exc, trainer.Interrupted):  # the trainer's stop, and where
                from ..base.signals import exit_code
                _fail(f"\n{exc}", exit_code(exc.signal))
            _internal_error(exc, debug)

    def main(self, *args, **kwargs):
        try:
            return super().main(*args, **kwargs)
        except OSError as exc:  # `--help` or `--version` into a closed pipe or a full disk
            _end_if_stdout_failed(exc)
            raise


_OUTPUT_ERRNOS = {errno.EPIPE, errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.EFBIG}


def _end_if_stdout_failed(exc: OSError) -> None:
    """Exit if ``exc`` is a failed write to stdout (no file name: a stream): quietly with 141 for a
    closed pipe (`| head`), as a program killed by SIGPIPE; with one line and 1 for a full disk."""
    if exc.filename is not None or exc.errno not in _OUTPUT_ERRNOS:
        return
    with contextlib.suppress(OSError):  # what is still buffered goes nowhere: no complaint at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    if exc.errno == errno.EPIPE:
        sys.exit(141)
    _fail(f"Error: cannot write to standard output ({exc.strerror})", 1)


def _fail(message: str, code: int):
    """Print ``message`` on stderr (if stderr is still there) and exit with ``code``."""
    with contextlib.suppress(OSError):
        click.echo(message, err=True)
    sys.exit(code)


def _internal_error(exc: BaseException, debug: bool):
    if debug:
        raise exc
    _fail(f"Error: internal error: {type(exc).__name__}: {exc}\n"
          f"This is a bug in fastemb {__version__}: please report it with the command that caused it "
          "(--debug before the command, or FASTEMB_DEBUG=1, shows the traceback).", 1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fastemb")
@click.option("--debug", is_flag=True, help="Show the traceback of an internal error (or set FASTEMB_DEBUG=1).")
def main(debug):
    """Train embedding layers: word2vec skip-gram and CBOW, fastText's subword models, or a fastText-style
    classifier, on one sparse core."""


def _default_input(input_path: str | None, what: Path) -> str:
    if input_path is not None:
        return input_path
    if not what.exists():
        raise FastembError(f"no INPUT given and the embedded default {what} is missing "
                           "(run `python data/generate.py` in a source checkout)")
    click.echo(f"No INPUT given: training on the embedded default corpus {what}", err=True)
    return str(what)


def _training_inputs(args: tuple[str, ...], default: Path) -> list[str]:
    """The INPUT arguments, read in order as one corpus ('-': stdin; quoted globs expanded)."""
    from ..base.fileio import expand_inputs
    return expand_inputs(args) if args else [_default_input(None, default)]


def _one_or_list(paths: list[str]) -> str | list[str]:
    """A single input stays a plain path (in reports and checkpoints)."""
    return paths[0] if len(paths) == 1 else paths


def _say(message: str) -> None:
    """A line on stderr that -q does not silence; best effort (a terminal gone with SIGHUP stops nothing)."""
    with contextlib.suppress(OSError):
        click.echo(message, err=True)


def _threads(requested: int | None, quiet: bool, flag: str = "--threads") -> int:
    """``requested`` threads, or all cores; more than the cores is cut to them, with a note."""
    from ..base.limits import usable_threads
    threads, note = usable_threads(requested, flag)
    if note and not quiet:
        _say(note)
    return threads
