"""Shared fixtures: every test gets its own real Git repository, isolated from the machine.

Git reads ``~/.gitconfig`` through ``HOME`` (GitPython too), so HOME points at a folder
of the session's own with a known identity. A template registry is built once per
session and copied per test: copying costs about a millisecond, ``git init`` plus the
first commit about twenty.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from promptctl import Registry

from .helpers import AUTHOR, Run, tick


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


@pytest.fixture
def run(repo_path: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    """The CLI, run in-process against ``repo_path``."""
    return Run(repo_path, capsys)
