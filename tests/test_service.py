"""fastemb as a service user runs it: nowhere to write Numba's cache, and still no traceback."""
import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT

NO_MOUNT = 99  # the child's exit code when it cannot make the package read-only


def test_training_without_a_writable_numba_cache_warns_once_and_works(tmp_path):
    """Every place Numba could cache in is unwritable, for root too: $NUMBA_CACHE_DIR and $HOME lie under a
    regular file, and the package is bind-mounted read-only in a mount namespace of the child's own."""
    if shutil.which("unshare") is None or shutil.which("mount") is None or \
            subprocess.run(["unshare", "--mount", "true"], capture_output=True).returncode != 0:
        pytest.skip("needs unshare and mount, and the right to use them, to make the package read-only")
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the cat sat on the mat\nthe dog sat on the log\n" * 50)
    env = {key: value for key, value in os.environ.items() if key != "XDG_CACHE_HOME"}
    env.update(HOME=str(not_a_folder / "home"), NUMBA_CACHE_DIR=str(not_a_folder / "numba"),
               PYTHONPATH=str(ROOT), PYTHONDONTWRITEBYTECODE="1")
    package = str(ROOT / "fastemb")
    read_only = f'mount --bind -o ro "$0" "$0" 2>/dev/null || exit {NO_MOUNT}; exec "$@"'
    done = subprocess.run(["unshare", "--mount", "sh", "-c", read_only, package,
                           sys.executable, "-m", "fastemb.cli", "skipgram", str(corpus), "-o", str(tmp_path / "v.txt"),
                           "--dim", "4", "--epochs", "1", "--min-count", "1", "--threads", "1", "--quiet"],
                          capture_output=True, text=True, env=env, cwd=tmp_path)
    if done.returncode == NO_MOUNT:
        pytest.skip("cannot bind-mount the package read-only here (needs CAP_SYS_ADMIN)")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "Error" not in done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.startswith("Warning:")]
    assert len(warnings) == 1 and "no writable Numba cache" in warnings[0], done.stderr
    assert (tmp_path / "v.txt").exists()
