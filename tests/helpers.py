"""What the tests share: running git and the CLI, a ticking clock, a repository's state.

Fixtures live in ``conftest.py``; plain helpers live here, so that no test module imports
another.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from promptctl import Registry
from promptctl.cli import main

AUTHOR = ("Test Author", "author@example.com")
_clock = itertools.count(1_700_000_000, 60)


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run git in ``cwd`` and return its stdout; fail the test on a non-zero exit."""
    result = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout


def tick() -> None:
    """Advance the test clock: the next commit gets a later, reproducible date."""
    stamp = f"@{next(_clock)} +0000"
    os.environ["GIT_AUTHOR_DATE"] = stamp
    os.environ["GIT_COMMITTER_DATE"] = stamp


def snapshot(path: Path) -> tuple[str, str, str]:
    """What a failed command must leave untouched: HEAD, status, and every ref."""
    return (
        git(path, "rev-parse", "HEAD"),
        git(path, "status", "--porcelain", "--untracked-files=all"),
        git(path, "for-each-ref"),
    )


# Runs ``set_alias(NAME, ALIAS, VERSION)`` in a child killed after the tag moved and
# before the alias log did: the state a kill between git's lock renames leaves.
_SPLIT_MOVE = """
import os, signal, sys
from promptctl import Registry
from promptctl.git.refs import RefUpdates

original = RefUpdates.apply

def tag_only(self, updates, reason):
    original(self, [u for u in updates if u[0].startswith("refs/tags/")], reason)
    os.kill(os.getpid(), signal.SIGKILL)

RefUpdates.apply = tag_only
Registry(sys.argv[1]).set_alias(sys.argv[2], sys.argv[3], int(sys.argv[4]))
"""


def split_alias_move(repo: Path, name: str, alias: str, version: int) -> None:
    """Move ``name@alias`` to ``version`` in a process killed before its alias-log record
    landed: the tag moved, the record did not, the move's journal is left behind."""
    result = subprocess.run([sys.executable, "-c", _SPLIT_MOVE, str(repo), name, alias,
                             str(version)], capture_output=True, text=True, check=False)
    assert result.returncode == -signal.SIGKILL, result.stderr


def register_n(registry: Registry, name: str, count: int) -> None:
    for i in range(1, count + 1):
        tick()
        registry.register_prompt(name, f"Version {i} of {{{{x}}}}\n", f"note {i}")


class Run:
    """Run ``promptctl`` in-process against one registry and capture what it prints."""

    def __init__(self, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.repo = repo
        self.capsys = capsys

    def __call__(self, *args: str, registry: bool = True) -> tuple[int, str, str]:
        argv = (["--registry", str(self.repo)] if registry else []) + list(args)
        try:
            main(argv)
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = self.capsys.readouterr()
        return code, out, err

    def cold(self, *args: str, registry: Path | None = None) -> tuple[int, str, str] | None:
        """What the cold load alone (``promptctl.cli.quick``) gives for ``args`` against
        ``registry`` (default: this one), or ``None`` when it leaves the command line to
        the rest of the CLI, untouched: nothing printed."""
        from promptctl.cli import quick

        if not quick.run(["--registry", str(registry or self.repo), *args]):
            assert self.capsys.readouterr() == ("", "")
            return None
        out, err = self.capsys.readouterr()
        return 0, out, err
