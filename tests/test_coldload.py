"""The cold ``load`` (``promptctl.coldload``, ``promptctl.cli.quick``): a load kept by the
last one answers exactly as the whole way does, and anything that could change the
answer (a new tip, a moved alias, another branch, a landing journal, a changed config,
values that are not the template's variables, a foreign file) sends it the whole way."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promptctl import coldload
from promptctl import journal as landing
from promptctl.cli import fast, quick

from .helpers import Run, git

CHAT = ("template:\n  - role: system\n    content: Be brief.\n    cache: true\n"
        "  - role: user\n    content: 'Tell me about {{ topic }} in {{ lang }}, {{topic}}!'\n")


@pytest.fixture(autouse=True)
def _kept_loads_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about kept loads: with nothing kept, the first load (which
    test_firstload covers) would answer in their place."""
    monkeypatch.setattr(coldload, "_first", lambda *args: None)


@pytest.fixture
def prompts(run: Run, tmp_path: Path) -> Run:
    """``greet`` with two versions (production on 1) and a chat prompt."""
    assert run("register", "greet", "-t", "Hello {{ name }}!")[0] == 0
    assert run("register", "greet", "-t", "Hi {{ name }}, {{ user.name }}.")[0] == 0
    assert run("alias", "set", "greet", "production", "1")[0] == 0
    chat = tmp_path / "chat.yaml"
    chat.write_text(CHAT)
    assert run("register", "chat", "-f", str(chat))[0] == 0
    return run


def _whole_way(run: Run, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str, str]:
    """What the command line gives with the kept loads out of the way (it keeps anew)."""
    with monkeypatch.context() as patch:
        patch.setattr(quick, "run", lambda argv: False)
        return run(*args)


def _kept(run: Run, *args: str) -> tuple[int, str, str] | None:
    """What the kept load alone gives, or ``None`` when it leaves the command line."""
    return run.cold(*args)


ANSWERED = [
    ["load", "greet@production", "--var", "name=Ada"],
    ["load", "greet@production"],
    ["load", "greet", "--var", "name=Ada", "--var", "user.name=Bo"],
    ["load", "greet/1", "--var", " name =spaced", "--var", "name=a=b"],
    ["load", "prompts:/greet@latest", "--var", "name=Ada", "--var", "user.name=Bo"],
    ["load", "--var", "topic=tea", "chat", "--var", "lang=Welsh"],
    ["load", "chat"],
]


@pytest.mark.parametrize("args", ANSWERED, ids=" ".join)
def test_a_kept_load_answers_as_the_whole_way(prompts: Run, monkeypatch: pytest.MonkeyPatch,
                                              args: list[str]) -> None:
    assert _kept(prompts, *args) is None  # nothing kept yet
    whole = _whole_way(prompts, monkeypatch, *args)
    assert whole[0] == 0
    assert _kept(prompts, *args) == whole
    assert prompts(*args) == whole  # through main, as the command runs


LEFT = [
    ["load", "greet@production", "--var", "name=Ada", "--var", "extra=1"],  # unused value
    ["load", "greet", "--var", "name=Ada"],  # a missing value
    ["load", "greet", "--var", "name=Ada", "--var", "user=Bo"],  # a value for a dotted name
    ["load", "greet@production", "--var", "name=Ada", "--json"],
    ["load", "greet@production", "--var", "name=Ada", "--vars-file", "values.json"],
    ["show", "greet@production"],
]


@pytest.mark.parametrize("args", LEFT, ids=" ".join)
def test_what_a_kept_load_cannot_answer_takes_the_whole_way(
        prompts: Run, monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    (prompts.repo / "values.json").write_text('{"name": "File"}')
    for kept in (["load", "greet@production"], ["load", "greet"]):
        assert _whole_way(prompts, monkeypatch, *kept)[0] == 0
    assert _kept(prompts, *args) is None
    assert prompts(*args) == _whole_way(prompts, monkeypatch, *args)


def _keep(run: Run, monkeypatch: pytest.MonkeyPatch, ref: str = "greet@production") -> None:
    assert _whole_way(run, monkeypatch, "load", ref)[2] == ""
    assert _kept(run, "load", ref) is not None


def test_a_moved_alias_is_loaded_the_whole_way(prompts: Run,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    repo = prompts.repo
    _keep(prompts, monkeypatch)
    assert prompts("alias", "set", "greet", "production", "2")[0] == 0
    assert _kept(prompts, "load", "greet@production", "--var", "name=Ada") is None
    _keep(prompts, monkeypatch)
    # Moved back by plain git, to a new tag object on version 1's commit.
    first = git(repo, "log", "--format=%H", "--reverse", "--", "prompts/greet.yaml").split()[0]
    git(repo, "tag", "-f", "-a", "-m", "back", "prompts/greet@production", first)
    assert _kept(prompts, "load", "greet@production", "--var", "name=Ada") is None
    assert prompts("load", "greet@production", "--var", "name=Ada")[1] == "Hello Ada!\n"
    # Packing the refs changes no object: the kept load still answers, the same.
    git(repo, "pack-refs", "--all")
    assert _kept(prompts, "load", "greet@production", "--var", "name=Ada") == (
        0, "Hello Ada!\n", "")
    git(repo, "tag", "-d", "prompts/greet@production")
    assert _kept(prompts, "load", "greet@production", "--var", "name=Ada") is None
    assert prompts("load", "greet@production")[0] != 0


def test_a_new_tip_or_another_branch_is_loaded_the_whole_way(
        prompts: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = prompts.repo
    _keep(prompts, monkeypatch, "greet")
    (repo / "prompts" / "other.yaml").write_text("template: other\n")
    git(repo, "add", "prompts/other.yaml")
    git(repo, "commit", "-qm", "by hand")
    assert _kept(prompts, "load", "greet", "--var", "name=Ada") is None
    _keep(prompts, monkeypatch, "greet")
    first = git(repo, "log", "--format=%H", "--reverse", "--", "prompts/greet.yaml").split()[0]
    git(repo, "checkout", "-q", "-b", "side", first)
    assert _kept(prompts, "load", "greet", "--var", "name=Ada") is None
    assert prompts("load", "greet", "--var", "name=Ada")[1] == "Hello Ada!\n"  # version 1
    git(repo, "checkout", "-q", "--detach", "main")
    assert _kept(prompts, "load", "greet", "--var", "name=Ada") is None


def test_a_landing_journal_or_a_changed_config_is_loaded_the_whole_way(
        prompts: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    repo = prompts.repo
    _keep(prompts, monkeypatch)
    journal = repo / ".git" / "promptctl" / landing.FILE_NAME
    journal.write_text("{}")
    assert _kept(prompts, "load", "greet@production", "--var", "name=Ada") is None
    journal.unlink()
    assert _kept(prompts, "load", "greet@production", "--var", "name=Ada") is not None
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    assert _kept(prompts, "load", "greet@production", "--var", "name=Ada") is None
    code, _, err = prompts("load", "greet@production", "--var", "name=Ada")
    assert code == 0 and "configured origin" in err  # what the kept load would have missed
    assert "+refs/tags/prompts/*" in git(repo, "config", "--get-all", "remote.origin.fetch")


def test_a_broken_or_foreign_file_is_ignored_and_rewritten(
        prompts: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    kept = prompts.repo / ".git" / "promptctl" / coldload.FILE
    _keep(prompts, monkeypatch)
    good = kept.read_text()
    entry = next(iter(json.loads(good)["loads"].values()))
    for text in ("", "{", "[]", '{"format": 99, "loads": {}}', '{"format": 2, "loads": []}',
                 good.replace('"format": 2', '"format": 1'),  # kept under an older numbering
                 good.replace('"parts": ["Hello ", "name", "!"]', '"parts": 7'),
                 good.replace('"parts": ["Hello ", "name", "!"]', '"parts": [1, 2, 3]'),
                 good.replace(json.dumps(entry["state"]), '"x"'), "\udcff".encode(
                     "utf-8", "surrogateescape").decode("latin-1")):
        kept.write_text(text)
        assert _kept(prompts, "load", "greet@production", "--var", "name=Ada") is None, text
        assert prompts("load", "greet@production", "--var", "name=Ada") == (
            0, "Hello Ada!\n", "")
        assert json.loads(kept.read_text())["format"] == 2  # the whole way wrote it anew
    elsewhere = kept.parent / "elsewhere.json"
    elsewhere.write_text(good)
    kept.unlink()
    kept.symlink_to(elsewhere)  # a link is never followed: ignored, then replaced
    assert _kept(prompts, "load", "greet@production", "--var", "name=Ada") is None
    assert prompts("load", "greet@production", "--var", "name=Ada") == (0, "Hello Ada!\n", "")
    assert not kept.is_symlink() and elsewhere.read_text() == good
    kept.unlink()
    os.mkfifo(kept)  # never waited on
    assert _kept(prompts, "load", "greet@production", "--var", "name=Ada") is None
    kept.unlink()
    kept.mkdir()  # cannot be written: the load works all the same, and keeps nothing
    assert prompts("load", "greet@production", "--var", "name=Ada") == (0, "Hello Ada!\n", "")
    assert _kept(prompts, "load", "greet@production", "--var", "name=Ada") is None


def test_a_template_json_cannot_hold_is_loaded_the_whole_way_each_time(
        prompts: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    dated = tmp_path / "dated.yaml"
    dated.write_text("template:\n  - role: user\n    content: On {{ day }}\n"
                     "    2026-12-06: a date for a key\n")
    assert prompts("register", "dated", "-f", str(dated))[0] == 0
    for _ in range(2):
        code, out, _ = _whole_way(prompts, monkeypatch, "load", "dated", "--var", "day=Monday")
        assert code == 0 and json.loads(out)[0]["content"] == "On Monday"
        assert _kept(prompts, "load", "dated", "--var", "day=Monday") is None


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=4),
    max_leaves=20)


@settings(max_examples=150, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture])
@given(entry=st.fixed_dictionaries({"template": _JSON, "parts": _JSON},
                                   optional={"state": _JSON, "tag": _JSON}),
       values=st.dictionaries(st.sampled_from(["name", "x", ""]), st.text(max_size=4),
                              max_size=2))
def test_any_kept_entry_gives_an_answer_or_none_never_an_error(
        prompts: Run, monkeypatch: pytest.MonkeyPatch, entry: dict[str, Any],
        values: dict[str, str]) -> None:
    """Whatever a kept entry holds, the cold load answers with text or messages, or
    leaves the command line to the whole way; it never raises."""
    kept = prompts.repo / ".git" / "promptctl" / coldload.FILE
    if not kept.exists():
        _keep(prompts, monkeypatch)
    data = json.loads(kept.read_text())
    key = next(iter(data["loads"]))
    real = data["loads"][key]
    entry.setdefault("state", real["state"])  # mostly a state that still holds
    entry.setdefault("tag", real["tag"])
    data["loads"][key] = entry
    kept.write_text(json.dumps(data))
    answer = coldload.load(str(prompts.repo), key.split("\0", 1)[1], values)
    assert answer is None or isinstance(answer, str) or (
        isinstance(answer, list) and all(isinstance(message, dict) for message in answer))


def test_kept_loads_are_bounded(prompts: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    huge = "x" * (coldload.LARGEST + 1) + " {{ name }}"
    assert prompts("register", "huge", "-t", huge)[0] == 0
    _whole_way(prompts, monkeypatch, "load", "huge", "--var", "name=Ada")
    assert _kept(prompts, "load", "huge", "--var", "name=Ada") is None  # too large to keep
    for n in range(1, 3):
        for i in range(coldload.LIMIT // 2 + 1):
            _whole_way(prompts, monkeypatch, "load", f"greet/{n}", "--var", f"name={i}")
            _whole_way(prompts, monkeypatch, "load", f"prompts:/greet/{n}", "--var", "name=x")
            _whole_way(prompts, monkeypatch, "load", f"greet/{n}#{i}")  # an error: not kept
    kept = json.loads((prompts.repo / ".git" / "promptctl" / coldload.FILE).read_text())
    assert len(kept["loads"]) == 4  # one entry a reference, whatever the values


def test_a_registry_in_a_folder_found_from_the_current_directory(
        run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A registry in a sub-folder of its repository, found from the current directory or
    through ``PROMPTCTL_REGISTRY``; another folder of the same repository keeps apart."""
    monorepo = tmp_path / "mono"
    shutil.copytree(run.repo, monorepo / "team-a", symlinks=True)
    shutil.move(str(monorepo / "team-a" / ".git"), str(monorepo / ".git"))
    git(monorepo, "add", "-A")
    git(monorepo, "commit", "-qm", "moved into team-a/")
    shutil.copytree(monorepo / "team-a", monorepo / "team-b")
    git(monorepo, "add", "-A")
    git(monorepo, "commit", "-qm", "team-b")
    for team in ("team-a", "team-b"):
        monkeypatch.chdir(monorepo / team)
        got = run("register", "greet", "-t", f"{team} {{{{ name }}}}", registry=False)
        assert got[0] == 0, got
    for team in ("team-a", "team-b"):
        monkeypatch.chdir(monorepo / team / "prompts")
        args = ["load", "greet", "--var", "name=Ada"]
        assert not quick.run(args)
        assert run(*args, registry=False) == (0, f"{team} Ada\n", "")
        assert quick.run(args)
        assert run.capsys.readouterr().out == f"{team} Ada\n"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PROMPTCTL_REGISTRY", str(monorepo / "team-b"))
    assert run("load", "greet", "--var", "name=Ada", registry=False) == (0, "team-b Ada\n", "")


def test_a_linked_worktree_keeps_its_own_loads(prompts: Run, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A worktree on another branch keeps its loads in its own git dir, against its own
    HEAD; a commit on its branch, made from either side, is seen."""
    repo, tree = prompts.repo, tmp_path / "wt"
    first = git(repo, "log", "--format=%H", "--reverse", "--", "prompts/greet.yaml").split()[0]
    git(repo, "worktree", "add", "-q", "-b", "side", str(tree), first)
    load = ["--registry", str(tree), "load", "greet", "--var", "name=Ada"]
    for _ in range(2):
        assert prompts(*load, registry=False) == (0, "Hello Ada!\n", "")
    assert quick.run(load)
    assert prompts.capsys.readouterr().out == "Hello Ada!\n"
    assert (repo / ".git" / "worktrees" / "wt" / "promptctl" / coldload.FILE).is_file()
    _keep(prompts, monkeypatch, "greet")  # main's own, beside it
    (tree / "prompts" / "greet.yaml").write_text("template: Yo {{ name }}\n")
    git(tree, "commit", "-qam", "by hand on side")
    assert not quick.run(load)
    assert prompts(*load, registry=False) == (0, "Yo Ada\n", "")
    assert _kept(prompts, "load", "greet") is not None  # main did not move


def test_a_clone_loads_what_a_fetch_or_pull_brings(tmp_path: Path, run: Run,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Two plain clones of a bare remote: one moves the alias and registers, the other
    fetches and pulls with plain git between its loads."""
    remote = tmp_path / "remote.git"
    assert run("register", "greet", "-t", "One {{ name }}")[0] == 0
    assert run("alias", "set", "greet", "production", "1")[0] == 0
    git(tmp_path, "clone", "-q", "--bare", str(run.repo), str(remote))
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for clone in (ours, theirs):
        git(tmp_path, "clone", "-q", str(remote), str(clone))
    load = ["--registry", str(ours), "load", "greet@production", "--var", "name=Ada"]
    code, out, err = run(*load, registry=False)
    assert (code, out) == (0, "One Ada\n") and "configured origin" in err  # and keeps
    assert quick.run(load)
    assert run.capsys.readouterr().out == "One Ada\n"
    their = ["--registry", str(theirs)]
    assert run(*their, "register", "greet", "-t", "Two {{ name }}", "--push",
               registry=False)[0] == 0
    assert run(*their, "alias", "set", "greet", "production", "2", "--push",
               registry=False)[0] == 0
    git(ours, "fetch", "-q")  # the moved tag, forced by the refspec promptctl configured
    assert not quick.run(load)
    code, out, err = run(*load, registry=False)  # the alias is ahead of our branch
    assert (code, out) == (3, "") and "not merged yet" in err
    git(ours, "pull", "-q", "--rebase")
    assert not quick.run(load)
    assert run(*load, registry=False) == (0, "Two Ada\n", "")
    assert quick.run(load)
    assert run.capsys.readouterr().out == "Two Ada\n"


def test_the_process_answers_from_a_kept_load_importing_next_to_nothing(
        prompts: Run) -> None:
    """A whole ``promptctl load`` process, twice: the second one is answered from the
    kept load, prints the same bytes, and imports neither the registry nor YAML."""
    listing = ("import os, runpy, sys\nsys.argv = ['promptctl', *sys.argv[1:]]\n"
               "def listed_exit(code, _exit=os._exit):\n"
               "    print('\\n'.join(sorted(sys.modules)), file=sys.stderr, flush=True)\n"
               "    _exit(code)\n"
               "os._exit = listed_exit\nrunpy.run_module('promptctl', run_name='__main__')\n")
    args = ["--registry", str(prompts.repo), "load", "chat", "--var", "topic=tea",
            "--var", "lang=Welsh"]
    runs = [subprocess.run([sys.executable, "-c", listing, *args], capture_output=True,
                           text=True, check=True, env=os.environ) for _ in range(2)]
    assert runs[0].stdout == runs[1].stdout
    assert json.loads(runs[1].stdout)[1]["content"] == "Tell me about tea in Welsh, tea!"
    first, second = (set(done.stderr.split()) for done in runs)
    heavy = {"promptctl.registry", "promptctl.index", "promptctl.models", "yaml", "sqlite3",
             "subprocess", "dataclasses", "typing", "pathlib", "typer"}
    bare = subprocess.run([sys.executable, "-c", "import sys; print(*sys.modules)"],
                          capture_output=True, text=True, check=True).stdout.split()
    assert "promptctl.registry" in first
    assert sorted((second - set(bare)) & heavy) == []  # (an editable install has pathlib)
    assert fast.__name__ not in second
