"""The fast path for ``load``, ``show``, ``list``, ``search`` and ``history``
(``promptctl.cli.fast``) answers exactly as the Typer app does: the same stdout, stderr
and exit code on the same command lines, and the command lines it does not take are
left to the Typer app untouched."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from promptctl.cli import fast, grammar, quick

from .helpers import Run, git

# Command lines the fast path runs itself: (arguments, whether --registry goes first).
FAST = [
    ["load", "greet"],
    ["load", "greet@production", "--var", "name=Ada"],
    ["load", "greet/1", "--var=name=Ada", "--json"],
    ["--json", "load", "greet", "--var", "name=Ada"],
    ["load", "--var", "name=Ada", "greet"],
    ["load", "greet", "--var", "name=Ada", "--var", "name=Bo"],
    ["load", "greet", "--var", "name=a=b", "--var", " name =spaced"],
    ["load", "greet", "--var", "nme=Ada"],
    ["load", "greet", "--var", "name=Ada", "--var", "extra=1"],
    ["load", "greet", "--vars-file", "{values}"],
    ["load", "greet", "--vars-file", "{values}", "--var", "name=Cy"],
    ["load", "greet", "--vars-file", "{missing}"],
    ["load", "greet", "--vars-file={values}", "--vars-file", "{missing}"],
    ["load", "greet@production", "--lock-file", "{lock}"],
    ["load", "greet@staging"],
    ["load", "nope"],
    ["load", "gret"],
    ["load", "bad name!"],
    ["load", "greet/9"],
    ["load", "chat", "--var", "topic=tea"],
    ["load", "chat"],
    ["--json", "load", "chat"],
    ["show", "greet@production"],
    ["show", "chat"],
    ["show", "greet", "--json"],
    ["show", "nope"],
    ["list"],
    ["--json", "list"],
    ["search"],
    ["search", "tags.team = 'web'"],
    ["search", "", "--json"],
    ["search", "name LIKE 'gr%' AND alias = 'production'"],
    ["search", "tags.team = "],
    ["search", "name = 'nope'"],
    ["history", "greet"],
    ["history", "greet", "--json"],
    ["history", "nope"],
    ["history", "bad name!"],
]

# Command lines the fast path leaves to the Typer app.
TYPER = [
    ["load"],
    ["load", "greet", "other"],
    ["load", "greet", "--help"],
    ["load", "--help"],
    ["--help", "load", "greet"],
    ["load", "greet", "--version"],
    ["load", "greet", "--var"],
    ["load", "greet", "--var", "noequals"],
    ["load", "greet", "--var", "=novalue"],
    ["load", "greet", "--var", "--json"],
    ["load", "greet", "--", "x"],
    ["load", "-", "greet"],
    ["load", "greet", "-t", "x"],
    ["load", "greet", "--json=yes"],
    ["--var", "name=Ada", "load", "greet"],
    ["show", "greet", "--var", "name=Ada"],
    ["show"],
    ["list", "greet"],
    ["search", "a", "b"],
    ["search", "--", "-x"],
    ["history"],
    ["history", "greet", "chat"],
    ["lod", "greet"],
]


@pytest.fixture
def prompts(run: Run, tmp_path: Path) -> dict[str, str]:
    """A registry with two versions of ``greet`` (production on 1), a chat prompt, a
    values file and a lock file; the paths the command lines above name."""
    assert run("register", "greet", "-t", "Hello {{ name }}!", "--description", "[beta] hi",
               "--model-config", "temperature=0.2", "--tag", "team=web")[0] == 0
    assert run("register", "greet", "-t", "Hi {{ name }}, {{ name }}.")[0] == 0
    assert run("alias", "set", "greet", "production", "1", "-m", "ship")[0] == 0
    chat = tmp_path / "chat.yaml"
    chat.write_text("template:\n  - role: user\n    content: Tell me about {{topic}}\n")
    assert run("register", "chat", "-f", str(chat))[0] == 0
    values = tmp_path / "values.json"
    values.write_text(json.dumps({"name": "File"}))
    lock = tmp_path / "prompts.lock"
    assert run("lock", "greet@production", "--file", str(lock))[0] == 0
    return {"values": str(values), "missing": str(tmp_path / "missing.json"), "lock": str(lock)}


def _args(template: list[str], paths: dict[str, str]) -> list[str]:
    return [word.format(**paths) for word in template]


def _typer_only(run: Run, monkeypatch: pytest.MonkeyPatch, *args: str,
                registry: bool = True) -> tuple[int, str, str]:
    with monkeypatch.context() as patch:
        patch.setattr(quick, "run", lambda argv: False)
        patch.setattr(fast, "run", lambda argv: False)
        return run(*args, registry=registry)


@pytest.mark.parametrize("template", FAST, ids=" ".join)
def test_the_fast_path_answers_as_the_typer_app(run: Run, prompts: dict[str, str],
                                                monkeypatch: pytest.MonkeyPatch,
                                                template: list[str]) -> None:
    args = _args(template, prompts)
    assert grammar.parse(["--registry", str(run.repo), *args], {}) is not None
    assert run(*args) == _typer_only(run, monkeypatch, *args)


@pytest.mark.parametrize("template", TYPER, ids=" ".join)
def test_what_the_fast_path_does_not_know_goes_to_typer(run: Run, prompts: dict[str, str],
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        template: list[str]) -> None:
    args = _args(template, prompts)
    assert grammar.parse(["--registry", str(run.repo), *args], {}) is None
    assert run(*args) == _typer_only(run, monkeypatch, *args)


def test_the_registry_options_anywhere_and_the_environment(
        run: Run, prompts: dict[str, str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    repo = str(run.repo)
    elsewhere = str(tmp_path / "not-a-registry")
    for args in (["load", "greet", "-r", repo], ["load", f"--registry={repo}", "greet"],
                 ["-r", elsewhere, "load", "greet", "--registry", repo],
                 ["-r", repo, "load", "greet", "-r", elsewhere]):
        assert grammar.parse(args, {}) is not None
        answer = run(*args, registry=False)
        assert answer == _typer_only(run, monkeypatch, *args, registry=False)
        assert (answer[0] == 0) == (args[-1] != elsewhere)  # the last one given wins
    monkeypatch.setenv(grammar.REGISTRY_ENV, repo)
    for args in (["load", "greet"], ["load", "greet", "-r", elsewhere]):
        answer = run(*args, registry=False)
        assert answer == _typer_only(run, monkeypatch, *args, registry=False)
        assert (answer[0] == 0) == (args[-1] != elsewhere)
    for args in (["-r", "", "load", "greet"], ["load", "greet", "-r", ""]):
        assert grammar.parse(args, os.environ) is None  # click's rules for "" are its own
    monkeypatch.setenv("_PROMPTCTL_COMPLETE", "complete_bash")
    assert grammar.parse(["load", "greet"], os.environ) is None


def test_the_process_prints_the_same_and_leaves_the_index_whole(
        run: Run, prompts: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """``python -m promptctl`` ends a fast load with ``os._exit``: nothing printed is lost,
    and an index the load grew is written and closed first."""
    repo = run.repo
    (repo / "prompts" / "by-hand.yaml").write_text("template: by {{ hand }}\n")
    git(repo, "add", "prompts/by-hand.yaml")
    git(repo, "commit", "-qm", "by hand")  # the next load indexes this commit
    command = [sys.executable, "-m", "promptctl", "--registry", str(repo)]
    for args in (["load", "by-hand", "--var", "hand=me", "--var", "extra=1"],
                 ["show", "greet@production"], ["load", "nope"], ["list"],
                 ["history", "greet"]):
        done = subprocess.run([*command, *args], capture_output=True, text=True, check=False)
        assert (done.returncode, done.stdout, done.stderr) == _typer_only(run, monkeypatch,
                                                                          *args)
    (index,) = (repo / ".git" / "promptctl").glob("index-*.sqlite")
    with sqlite3.connect(index) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert not list(index.parent.glob("*-journal"))


# Write command lines the fast path runs itself ({chat}: a chat prompt file).
FAST_WRITES = [
    ["register", "greet", "-t", "Hey {{ name }}"],
    ["register", "greet", "--text=Hey {{ name }}", "-m", "a note", "--json"],
    ["register", "greet", "-t", "Hi {{ name }}, {{ name }}."],
    ["register", "greet", "-t", "Yo {{ a }}", "--tag", "team=", "--tag", "k=v",
     "--model-config", "temperature=0.5", "--description", "d", "-m", "x", "-m", "last"],
    ["register", "greet", "-t", "{{ a }}", "--response-format", '{"type": "object"}'],
    ["register", "greet", "-t", "{{ a }}", "--response-format", "not json"],
    ["register", "greet", "-t", "x", "--author", "Ann <ann@example.com>"],
    ["register", "greet", "-t", "x", "--push"],
    ["register", "greet"],
    ["register", "greet", "-t", "a", "-f", "{chat}"],
    ["register", "fresh/one", "-f", "{chat}"],
    ["register", "bad name!", "-t", "x"],
    ["alias", "set", "greet", "staging", "2"],
    ["--json", "alias", "set", "greet", "production", "2", "-m", "why"],
    ["alias", "set", "greet", "production", "1"],
    ["alias", "set", "greet", "production", "01"],
    ["alias", "set", "greet", "production", "9"],
    ["alias", "set", "greet", "latest", "1"],
    ["alias", "set", "greet", "production", "2", "--force"],
    ["alias", "set", "greet", "production", "2", "--force", "-m", "rollback"],
    ["alias", "set", "nope", "production", "1", "--push"],
]

# Write command lines left to the Typer app.
TYPER_WRITES = [
    ["register"],
    ["register", "greet", "-t"],
    ["register", "greet", "-tx"],
    ["register", "greet", "-t", "x", "other"],
    ["register", "greet", "-t", "x", "--tag", "noequals"],
    ["register", "greet", "-t", "x", "--model-config", "=1"],
    ["register", "greet", "-t", "x", "--push=yes"],
    ["register", "greet", "-t", "x", "--force"],
    ["register", "greet", "-t", "x", "--help"],
    ["--push", "register", "greet", "-t", "x"],
    ["alias", "set", "greet", "production"],
    ["alias", "set", "greet", "production", "x"],
    ["alias", "set", "greet", "production", "9" * 5000],  # an int() past Python's limit
    ["alias", "set", "greet", "production", "+1"],
    ["alias", "set", "greet", "production", "1", "extra"],
    ["alias", "-m", "x", "set", "greet", "production", "1"],
    ["alias", "set", "greet", "production", "1", "--force=1"],
    ["alias", "list"],
    ["alias", "delete", "greet", "production"],
    ["alias"],
    ["set", "greet", "production", "1"],
]


@pytest.mark.parametrize("template", FAST_WRITES, ids=" ".join)
def test_writes_on_the_fast_path_answer_and_write_as_the_typer_app(
        run: Run, prompts: dict[str, str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], tmp_path: Path, template: list[str]) -> None:
    chat = tmp_path / "whole.yaml"
    chat.write_text("description: whole\ntemplate:\n  - role: user\n    content: '{{q}}'\n")
    args = [str(chat) if word == "{chat}" else word for word in template]
    twin = Run(tmp_path / "twin", capsys)
    shutil.copytree(run.repo, twin.repo)
    assert grammar.parse(["--registry", str(run.repo), *args], {}) is not None
    fast_answer = run(*args)
    typer_answer = _typer_only(twin, monkeypatch, *args)
    assert fast_answer == tuple(part.replace(str(twin.repo), str(run.repo))
                                if isinstance(part, str) else part for part in typer_answer)
    for command in (["for-each-ref"], ["log", "--format=%H %s", "--all"], ["status", "-s"]):
        assert git(run.repo, *command) == git(twin.repo, *command)


@pytest.mark.parametrize("template", TYPER_WRITES, ids=" ".join)
def test_write_command_lines_the_fast_path_does_not_know_go_to_typer(
        run: Run, template: list[str]) -> None:
    assert grammar.parse(["--registry", str(run.repo), *template], {}) is None
