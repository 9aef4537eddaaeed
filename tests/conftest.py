"""Shared fixtures: every test gets its own real Git repository, isolated from the machine.

Git reads ``~/.gitconfig`` through ``HOME`` (GitPython too), so HOME points at a folder
of the session's own with a known identity. A template registry is built once per
session and copied per test: copying costs about a millisecond, ``git init`` plus the
first commit about twenty.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from promptctl import Registry

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


@pytest.fixture(scope="session", autouse=True)
def _isolated_git(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    home = tmp_path_factory.mktemp("home")
    (home / ".gitconfig").write_text(
        f"[user]\n\tname = {AUTHOR[0]}\n\temail = {AUTHOR[1]}\n"
        "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"
    )
    template_dir = tmp_path_factory.mktemp("git-template")
    saved = dict(os.environ)
    for key in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "PROMPTCTL_REGISTRY",
                "GIT_CONFIG_GLOBAL", "XDG_CONFIG_HOME"):
        os.environ.pop(key, None)
    os.environ.update(
        HOME=str(home),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_TEMPLATE_DIR=str(template_dir),
        GIT_AUTHOR_NAME=AUTHOR[0], GIT_AUTHOR_EMAIL=AUTHOR[1],
        GIT_COMMITTER_NAME=AUTHOR[0], GIT_COMMITTER_EMAIL=AUTHOR[1],
        NO_COLOR="1",
    )
    tick()
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="session")
def _template_registry(tmp_path_factory: pytest.TempPathFactory, _isolated_git: None) -> Path:
    path = tmp_path_factory.mktemp("template") / "repo"
    Registry.init(path).close()
    return path


@pytest.fixture
def repo_path(tmp_path: Path, _template_registry: Path) -> Path:
    """A fresh registry at the root of its own repository (one commit: promptctl.yaml)."""
    path = tmp_path / "repo"
    shutil.copytree(_template_registry, path, symlinks=True)
    tick()
    return path


@pytest.fixture
def registry(repo_path: Path) -> Iterator[Registry]:
    """A :class:`Registry` on ``repo_path``, closed after the test."""
    reg = Registry(repo_path)
    yield reg
    reg.close()
