"""Writes killed half way (kill -9 at a chosen step) are put back by the next write.

The kill is real: a child process runs a register and sends itself SIGKILL right after
one step of the landing (the file written, the index entry staged, the branch moved).
Alias moves split by a kill (the tag moved, its alias-log record not) are made with
plain git, as the kill leaves them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from promptctl import Registry

from .helpers import Run, git, split_alias_move

# Runs a register of greet in a child that kills itself after the named step.
_KILLED_REGISTER = """
import os, signal, sys
from promptctl import Registry
import promptctl.journal as journal
from promptctl.git.refs import RefUpdates
from promptctl.git.worktree import Worktree

where, step = {"write": (Worktree, "write"), "stage": (Worktree, "stage"),
               "begin": (journal, "begin"), "move": (RefUpdates, "move")}[sys.argv[2]]
original = getattr(where, step)

def killed(*args, **kwargs):
    original(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)

setattr(where, step, killed)
Registry(sys.argv[1]).register_prompt("greet", "Hello v2 {{ name }}\\n", "second")
"""

V1 = "Hello v1 {{ name }}\n"


def _killed_register(repo: Path, step: str) -> None:
    result = subprocess.run([sys.executable, "-c", _KILLED_REGISTER, str(repo), step],
                            capture_output=True, text=True, check=False)
    assert result.returncode == -signal.SIGKILL, result.stderr


@pytest.fixture
def greet(registry: Registry, repo_path: Path) -> Path:
    registry.register_prompt("greet", V1, "first")
    registry.close()
    return repo_path


def _journal(repo: Path) -> Path:
    return repo / ".git" / "promptctl" / "landing.json"


@pytest.mark.parametrize("step", ["begin", "write", "stage"])
def test_a_register_killed_before_the_branch_moved_is_put_back(
        greet: Path, run: Run, step: str) -> None:
    head = git(greet, "rev-parse", "HEAD")
    _killed_register(greet, step)
    assert _journal(greet).exists()
    if step != "begin":
        assert "prompts/greet.yaml" in git(greet, "status", "--porcelain")

    code, out, err = run("load", "greet")  # a read says so, once, and changes nothing
    assert (code, out) == (0, V1)
    assert [line for line in err.splitlines() if line.startswith("warning:")] == [(
        "warning: a register of prompts/greet.yaml was interrupted before it completed; the "
        "next promptctl write (or 'promptctl check --fix') puts it back")]
    assert _journal(greet).exists()

    code, _, err = run("register", "other", "-t", "hi")  # the next write puts it back
    assert code == 0
    if step != "begin":
        assert "note: put back prompts/greet.yaml and its index entry" in err
    assert not _journal(greet).exists()
    assert git(greet, "status", "--porcelain", "--untracked-files=all") == ""
    assert (greet / "prompts" / "greet.yaml").read_text() == git(greet, "show",
                                                                  "HEAD:prompts/greet.yaml")
    assert git(greet, "rev-parse", "HEAD~1") == head  # only "other" was committed
    assert not list((greet / "prompts").glob(".*promptctl-*"))
    code, out, _ = run("--json", "history", "greet")
    assert [v["version"] for v in json.loads(out)] == [1]
    assert run("register", "greet", "-t", "Hello v2 {{ name }}\n")[0] == 0
    code, out, _ = run("--json", "history", "greet")
    assert [v["version"] for v in json.loads(out)] == [1, 2]  # no gap
    git(greet, "fsck", "--strict")


def test_a_register_killed_after_the_branch_moved_is_complete(greet: Path, run: Run) -> None:
    _killed_register(greet, "move")
    assert _journal(greet).exists()  # killed before it was removed
    assert git(greet, "status", "--porcelain") == ""
    code, out, err = run("tag", "set", "greet", "team=x")
    assert code == 0 and "put back" not in err
    assert not _journal(greet).exists()
    code, out, _ = run("--json", "history", "greet")
    assert [v["version"] for v in json.loads(out)] == [1, 2, 3]
    assert git(greet, "status", "--porcelain") == ""


def test_edits_made_after_the_kill_are_kept(greet: Path, run: Run) -> None:
    _killed_register(greet, "stage")
    mine = "template: my own edit\n"
    (greet / "prompts" / "greet.yaml").write_text(mine)
    code, _, err = run("alias", "set", "greet", "production", "1")
    assert code == 0
    assert "your file changed since, kept as they are" in err
    assert (greet / "prompts" / "greet.yaml").read_text() == mine
    # The index entry went back: only the user's own edit is left, unstaged.
    assert git(greet, "status", "--porcelain") == " M prompts/greet.yaml\n"


def test_a_new_prompt_killed_half_way_is_removed_again(registry: Registry, repo_path: Path,
                                                       run: Run) -> None:
    registry.close()
    script = _KILLED_REGISTER.replace('register_prompt("greet"', 'register_prompt("fresh"')
    result = subprocess.run([sys.executable, "-c", script, str(repo_path), "stage"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == -signal.SIGKILL
    assert (repo_path / "prompts" / "fresh.yaml").exists()
    assert run("check", "--fix")[0] == 0
    assert not (repo_path / "prompts" / "fresh.yaml").exists()
    assert git(repo_path, "status", "--porcelain", "--untracked-files=all") == ""
    assert not _journal(repo_path).exists()


def test_a_journal_of_a_running_write_is_no_warning(greet: Path, run: Run) -> None:
    # A register in progress in another process: its journal is no interrupted write.
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        _journal(greet).write_text(json.dumps({
            "branch": "refs/heads/main", "parent": None, "commit": "0" * 40,
            "path": "prompts/greet.yaml", "old_blob": None, "old_entry": None,
            "new_blob": "1" * 40, "mode": "100644", "pid": sleeper.pid}))
        code, out, err = run("load", "greet")
        assert (code, out, err) == (0, V1, "")
    finally:
        sleeper.kill()
        sleeper.wait()
        os.unlink(_journal(greet))


# -- alias moves split by a kill: the tag moved, its record not ----------------------------

@pytest.fixture
def promoted(greet: Path) -> Path:
    with Registry(greet) as reg:
        reg.register_prompt("greet", "Hello v2 {{ name }}\n", "second")
        reg.set_alias("greet", "production", 1)
    return greet


def _moves(run: Run, alias: str = "production") -> list[tuple[int | None, int | None]]:
    code, out, _ = run("--json", "alias", "history", "greet", alias)
    assert code == 0
    return [(m["from_version"], m["to_version"]) for m in json.loads(out)]


def test_a_move_killed_between_tag_and_record_is_recorded_by_the_next_write(
        promoted: Path, run: Run) -> None:
    split_alias_move(promoted, "greet", "production", 2)
    assert run("load", "greet@production")[1] == "Hello v2 {{ name }}\n"  # the tag moved

    code, out, err = run("alias", "list", "greet")
    assert code == 0 and "production" in out
    warned = [line for line in err.splitlines() if line.startswith("warning:")]
    assert warned == [("warning: alias greet@production is v2 but the alias log last recorded "
                       "v1: it moved without its record (run 'promptctl check --fix' "
                       "to record it)")]
    code, out, _ = run("check")
    assert code == 1 and "history: alias greet@production is v2" in out

    code, _, err = run("alias", "set", "greet", "staging", "2")
    assert code == 0 and "note: recorded the alias move greet@production: v1 -> v2" in err
    assert _moves(run) == [(None, 1), (1, 2)]  # the move, recorded once
    assert _moves(run, "staging") == [(None, 2)]
    assert run("check")[0] == 0
    git(promoted, "fsck", "--strict")


def test_a_tag_moved_by_hand_is_reported_and_recorded_by_check_fix(promoted: Path,
                                                                    run: Run) -> None:
    v2 = git(promoted, "rev-parse", "HEAD").strip()
    git(promoted, "tag", "-f", "-a", "-m", "by hand", "prompts/greet@production", v2)
    code, _, err = run("alias", "history", "greet")
    assert code == 0
    assert "warning: alias greet@production is v2 but the alias log last recorded v1" in err
    code, out, _ = run("--json", "check")
    assert code == 1
    assert [f["kind"] for f in json.loads(out)["history"]] == ["unrecorded"]

    code, _, err = run("check", "--fix")
    assert code == 0 and "fixed: recorded greet@production in the alias log" in err
    assert _moves(run) == [(None, 1), (1, 2)]
    assert run("check", "--fix")[0] == 0
    assert _moves(run) == [(None, 1), (1, 2)]  # nothing more to record
    code, _, err = run("alias", "list")
    assert code == 0 and "warning" not in err


def test_a_deletion_by_hand_is_an_unrecorded_move(promoted: Path, run: Run) -> None:
    git(promoted, "tag", "-d", "prompts/greet@production")
    code, out, _ = run("check")
    assert code == 1
    assert "alias greet@production is deleted but the alias log last recorded v1" in out
    assert run("check", "--fix")[0] == 0
    assert _moves(run) == [(None, 1), (1, None)]


def test_tags_that_never_had_a_record_are_no_finding(greet: Path, run: Run) -> None:
    # Tags made by hand (or by a generator, or before the log): nothing was lost.
    git(greet, "tag", "-a", "-m", "by hand", "prompts/greet@production", "HEAD")
    code, _, err = run("alias", "list")
    assert code == 0 and err == ""
    assert run("check")[0] == 0
    assert run("alias", "set", "greet", "production", "1")[0] == 0  # already there
    with Registry(greet) as reg:
        reg.register_prompt("greet", "Hello v2 {{ name }}\n", "second")
        reg.set_alias("greet", "production", 2)
    assert _moves(run) == [(1, 2)]  # one move, one record


# -- prompt files committed under names now refused ---------------------------------------

def test_files_under_refused_names_are_named_by_list_and_check(greet: Path, run: Run) -> None:
    for name in ("a..b", "x.yaml", "notes/.hidden"):
        path = greet / "prompts" / f"{name}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("template: hi\n")
    git(greet, "add", "prompts")
    git(greet, "commit", "-qm", "files under names promptctl refuses")
    before = git(greet, "status", "--porcelain")

    code, out, err = run("list")
    assert code == 0 and "greet" in out and "a..b" not in out
    assert err.splitlines() == [
        ("warning: not listed, committed under names promptctl refuses: prompts/a..b.yaml, "
        "prompts/notes/.hidden.yaml, prompts/x.yaml.yaml (rename them with 'git mv'; "
        "'promptctl check' says why)")]
    code, out, _ = run("--json", "check")
    assert code == 1
    history = json.loads(out)["history"]
    assert [(f["kind"], f["name"]) for f in history] == [
        ("refused", "prompts/a..b.yaml"), ("refused", "prompts/notes/.hidden.yaml"),
        ("refused", "prompts/x.yaml.yaml")]
    assert "'..' is not allowed" in history[0]["detail"]
    assert git(greet, "status", "--porcelain") == before

    git(greet, "mv", "prompts/a..b.yaml", "prompts/a-b.yaml")
    git(greet, "rm", "-q", "prompts/x.yaml.yaml", "prompts/notes/.hidden.yaml")
    git(greet, "commit", "-qm", "renamed")
    code, out, err = run("list")
    assert code == 0 and "a-b" in out and err == ""
