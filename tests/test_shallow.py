"""Shallow clones (CI checkouts): deepened automatically, or a clear stop; never a wrong number."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from promptctl import Conflict, Registry
from promptctl.errors import ShallowHistory

from .helpers import Run, git, tick


@pytest.fixture
def origin(registry: Registry, repo_path: Path) -> Path:
    """A registry whose history matters: p has 3 versions (production at 2), q has 2."""
    for text in ("p one {{x}}", "q one", "p two {{x}}", "p three {{x}}", "q two"):
        tick()
        registry.register_prompt(text.split()[0], text + "\n", text)
    registry.set_alias("p", "production", 2)
    return repo_path


@pytest.fixture
def clone(origin: Path, tmp_path: Path) -> Path:
    """``git clone --depth 1`` of ``origin``: one commit, and none of the alias tags."""
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{origin}", "clone")
    path = tmp_path / "clone"
    assert (path / ".git" / "shallow").exists()
    assert git(path, "tag") == ""  # the production tag points below the cut
    return path


def test_shallow_clone_is_deepened_and_numbered_right(origin: Path, clone: Path) -> None:
    with Registry(clone) as reg:
        assert reg.deepened_from is None  # nothing fetched before it is needed
        production = reg.load_prompt("p@production")
        assert (production.version, production.template) == (2, "p two {{x}}\n")
        assert [v.version for v in reg.history("p")] == [1, 2, 3]
        assert reg.load_prompt("q").version == 2
        assert reg.deepened_from == "origin"
    assert not (clone / ".git" / "shallow").exists()
    with Registry(origin) as source, Registry(clone) as deepened:
        assert [v.commit for v in deepened.history("p")] == [
            v.commit for v in source.history("p")]


def test_deepens_from_the_remote_the_branch_tracks(clone: Path) -> None:
    git(clone, "remote", "rename", "origin", "upstream")
    with Registry(clone) as reg:
        assert reg.load_prompt("p").version == 3
        assert reg.deepened_from == "upstream"


def test_register_on_a_shallow_clone_numbers_after_the_history(clone: Path) -> None:
    with Registry(clone) as reg:
        made = reg.register_prompt("p", "p four {{x}}\n", "four")
        assert made.version == 4 and reg.deepened_from == "origin"


def test_remote_gone_stops_with_how_to_fix_it(origin: Path, clone: Path) -> None:
    moved = origin.with_name("elsewhere")
    origin.rename(moved)
    reg = Registry(clone)
    with pytest.raises(ShallowHistory) as caught:
        reg.load_prompt("p@production")
    message = str(caught.value)
    assert isinstance(caught.value, Conflict) and caught.value.exit_code == 4
    assert message.startswith("this is a shallow clone and could not be deepened (")
    assert "git fetch --unshallow" in message and "fetch-depth: 0" in message
    assert (clone / ".git" / "shallow").exists() and reg.deepened_from is None
    # Tried once per Registry: back online, this one still refuses; a new one deepens.
    moved.rename(origin)
    with pytest.raises(ShallowHistory):
        reg.history("p")
    reg.close()
    with Registry(clone) as fresh:
        assert fresh.load_prompt("p@production").version == 2


def test_no_remote_at_all(clone: Path) -> None:
    git(clone, "remote", "remove", "origin")
    with Registry(clone) as reg, pytest.raises(ShallowHistory, match="has no remote"):
        reg.history("p")


def test_cli_deepens_and_says_so(clone: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = Run(clone, capsys)
    code, out, err = run("--json", "show", "p@production")
    assert code == 0 and json.loads(out)["version"] == 2
    assert "fetched the full history of this shallow clone from 'origin'" in err
    code, out, err = run("load", "p@production")
    assert (code, out, err) == (0, "p two {{x}}\n", "")  # deepened once: no note again


def test_cli_remote_gone_exits_4_without_a_number(origin: Path, clone: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    shutil.rmtree(origin)
    run = Run(clone, capsys)
    for args in (("--json", "show", "p@production"), ("history", "p"), ("list",)):
        code, out, err = run(*args)
        assert (code, out) == (4, "")
        assert err.startswith("error: this is a shallow clone and could not be deepened")
        assert err.rstrip().endswith("(in CI: checkout with fetch-depth: 0)")
        assert len(err.splitlines()) == 1
