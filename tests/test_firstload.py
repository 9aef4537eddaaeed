"""The first cold ``load`` (``promptctl.coldload``): with nothing kept, a prompt file in the
plain form is read straight from a current version index and Git, exactly as the whole
way reads it, and kept; whatever the whole way could answer otherwise (an index behind
the branch, numbers to warn about, an alias on a commit that made no version, a record
that names the wrong blob, a file only YAML reads or one with a problem, a clone to
configure) is left to the whole way, untouched."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from promptctl import coldload
from promptctl.cli import quick
from promptctl.git import files

from .helpers import Run, git

CHAT = "template:\n  - role: user\n    content: Tell me about {{ topic }}\n"


@pytest.fixture
def prompts(run: Run) -> Run:
    """``greet`` with two versions, ``production`` on 1; the index current."""
    assert run("register", "greet", "-t", "Hello {{ name }}!")[0] == 0
    assert run("register", "greet", "-t", "Hi {{ name }}, {{ user.name }}.")[0] == 0
    assert run("alias", "set", "greet", "production", "1")[0] == 0
    return run


def _whole_way(run: Run, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str, str]:
    """What the command line gives without the cold load (it keeps what it loads)."""
    with monkeypatch.context() as patch:
        patch.setattr(quick, "run", lambda argv: False)
        return run(*args)


def _first(run: Run, *args: str, registry: Path | None = None) -> tuple[int, str, str] | None:
    """What the cold load gives with nothing kept, or ``None`` when it leaves the line."""
    found = files.find_repository(str(registry or run.repo))
    assert found is not None
    for kept in Path(found[2]).glob("**/promptctl/" + coldload.FILE):  # worktrees' too
        kept.unlink()
    return run.cold(*args, registry=registry)


ANSWERED = [
    ["load", "greet@production", "--var", "name=Ada"],
    ["load", "prompts:/greet@production"],
    ["load", "greet", "--var", "user.name=Bo", "--var", "name=Ada"],
    ["load", "greet/1", "--var", "name=a=b"],
    ["load", "greet@latest"],
    ["load", "prompts:/greet/2"],
]


@pytest.mark.parametrize("args", ANSWERED, ids=" ".join)
def test_a_first_load_answers_as_the_whole_way_and_keeps_it(
        prompts: Run, monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    whole = _whole_way(prompts, monkeypatch, *args)
    assert whole[0] == 0
    assert _first(prompts, *args) == whole
    kept = json.loads((prompts.repo / ".git" / "promptctl" / coldload.FILE).read_text())
    assert list(kept["loads"]) == [f"{prompts.repo}\0{args[1]}"]
    assert prompts(*args) == whole  # now from what it kept


def test_tags_loose_packed_lightweight_and_a_folder_registry(
        run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The alias tag as promptctl writes it, packed by plain git, or lightweight by hand;
    a registry in a folder of its repository, and a linked worktree of it."""
    mono = tmp_path / "mono"
    git(tmp_path, "init", "-q", "-b", "main", str(mono))
    shutil.copytree(run.repo / "prompts", mono / "team a" / "prompts")
    shutil.copy(run.repo / "promptctl.yaml", mono / "team a" / "promptctl.yaml")
    git(mono, "add", "-A")
    git(mono, "commit", "-qm", "a registry in a folder")
    folder = ["--registry", str(mono / "team a")]
    for text in ("One {{ name }}", "Two {{ name }}"):
        assert run(*folder, "register", "greet", "-t", text, registry=False)[0] == 0
    assert run(*folder, "alias", "set", "greet", "production", "1", registry=False)[0] == 0
    load = ["load", "greet@production", "--var", "name=Ada"]
    assert _whole_way(run, monkeypatch, *folder, *load) == (0, "One Ada\n", "")
    assert _first(run, *load, registry=mono / "team a") == (0, "One Ada\n", "")
    git(mono, "pack-refs", "--all")
    assert _first(run, *load, registry=mono / "team a") == (0, "One Ada\n", "")
    second = git(mono, "rev-parse", "HEAD").strip()  # the commit that made version 2
    git(mono, "tag", "-f", "prompts/greet@production", second)  # lightweight, by hand
    assert _whole_way(run, monkeypatch, *folder, *load) == (0, "Two Ada\n", "")
    assert _first(run, *load, registry=mono / "team a") == (0, "Two Ada\n", "")
    tree = tmp_path / "wt"
    git(mono, "worktree", "add", "-q", "-b", "side", str(tree), "main")
    assert _first(run, *load, registry=tree / "team a") is None  # its branch: no index yet
    assert _whole_way(run, monkeypatch, "--registry", str(tree / "team a"), *load)[0] == 0
    assert _first(run, *load, registry=tree / "team a") == (0, "Two Ada\n", "")
    assert (mono / ".git" / "worktrees" / "wt" / "promptctl" / coldload.FILE).is_file()


def _commit_by_hand(repo: Path, text: str, message: str = "by hand") -> None:
    (repo / "prompts" / "greet.yaml").write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)


def _left(run: Run, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str, str]:
    """Assert the first load leaves ``args`` to the whole way, and return what that gives
    (the same, through the command line as it runs)."""
    assert _first(run, *args) is None
    whole = run(*args)
    assert whole == _whole_way(run, monkeypatch, *args)
    return whole


def test_an_index_behind_the_branch_is_brought_up_to_date_the_whole_way(
        prompts: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    load = ["load", "greet", "--var", "name=Ada", "--var", "user.name=Bo"]
    assert _first(prompts, *load) == (0, "Hi Ada, Bo.\n", "")
    _commit_by_hand(prompts.repo, "template: Yo {{ name }} and {{ user.name }}\n")
    assert _left(prompts, monkeypatch, *load) == (0, "Yo Ada and Bo\n", "")
    assert _first(prompts, *load) == (0, "Yo Ada and Bo\n", "")  # the index is current again
    for index in (prompts.repo / ".git" / "promptctl").glob("index-*"):
        index.unlink()
    assert _left(prompts, monkeypatch, *load) == (0, "Yo Ada and Bo\n", "")  # built anew


def test_what_only_yaml_reads_or_the_whole_way_refuses_is_left_to_it(
        prompts: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    chat = tmp_path / "chat.yaml"
    chat.write_text(CHAT)
    assert prompts("register", "chat", "-f", str(chat))[0] == 0
    assert _left(prompts, monkeypatch, "load", "chat", "--var", "topic=tea")[0] == 0
    _commit_by_hand(prompts.repo, "template: Yo {{ name }}  # a comment\n")
    assert prompts("history", "greet")[0] == 0  # the index current: only the file's form
    assert _left(prompts, monkeypatch, "load", "greet", "--var", "name=Ada")[0] == 0
    _commit_by_hand(prompts.repo, "template: Yo {{ name }}\ntags:\n  team: 1.5\n")
    assert prompts("history", "greet")[0] == 0
    code, out, err = _left(prompts, monkeypatch, "load", "greet", "--var", "name=Ada")
    assert code != 0 and out == "" and "tags.team" in err
    for args in (["load", "nobody"], ["load", "greet/9"], ["load", "greet@staging"],
                 ["load", "greet@@x"], ["load", "greet@production", "--var", "x=1"],
                 ["load", "greet@production", "--var", "name=Ada", "--json"]):
        assert _left(prompts, monkeypatch, *args)[0] != 0 or "--json" in args


def test_an_alias_on_a_commit_that_made_no_version_is_left_to_the_whole_way(
        prompts: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    (prompts.repo / "notes.txt").write_text("unrelated\n")
    git(prompts.repo, "add", "notes.txt")
    git(prompts.repo, "commit", "-qm", "unrelated")
    git(prompts.repo, "tag", "-a", "-m", "by hand", "prompts/greet@canary", "HEAD")
    assert prompts("load", "greet")[0] == 0  # brings the index up to date
    code, out, _ = _left(prompts, monkeypatch, "load", "greet@canary", "--var", "name=Ada",
                         "--var", "user.name=Bo")
    assert (code, out) == (0, "Hi Ada, Bo.\n")  # the version the commit holds


def test_a_record_naming_a_blob_its_commit_does_not_hold_is_left_to_the_whole_way(
        prompts: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = prompts.repo
    head = git(repo, "rev-parse", "HEAD").strip()
    (repo / "prompts" / "greet.yaml").write_text("template: Forged {{ name }}\n")
    git(repo, "add", "-A")
    tree = git(repo, "write-tree").strip()
    body = (f"tree {tree}\nparent {head}\nauthor A <a@x> 1700000000 +0000\n"
            f"committer A <a@x> 1700000000 +0000\n\nforged\n\n"
            f"Promptctl-Version: greet 3 {'e' * 40} {tree}\n").encode()
    forged = subprocess.run(["git", "hash-object", "-t", "commit", "-w", "--stdin"], cwd=repo,
                            input=body, capture_output=True, check=True).stdout.decode().strip()
    git(repo, "update-ref", "refs/heads/main", forged, head)
    assert prompts("load", "greet/1")[0] == 0  # brings the index up to date
    code, out, err = _left(prompts, monkeypatch, "load", "greet/3", "--var", "name=Ada")
    assert (code, out) == (4, "") and "do not trust this version" in err


def test_numbers_a_rewrite_changed_are_warned_about_the_whole_way(
        prompts: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = prompts.repo
    git(repo, "reset", "-q", "--hard", "HEAD~1")  # drops version 2
    _commit_by_hand(repo, "template: Another {{ name }}\n")
    code, out, err = _whole_way(prompts, monkeypatch, "load", "greet/2", "--var", "name=Ada")
    assert (code, out) == (0, "Another Ada\n") and "greet/2 was commit" in err
    assert _left(prompts, monkeypatch, "load", "greet/2", "--var", "name=Ada")[2] != ""
    assert _first(prompts, "load", "greet/1", "--var", "name=Ada") is None  # the same prompt


def test_a_detached_head_a_landing_journal_or_a_clone_to_configure_go_the_whole_way(
        prompts: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    load = ["load", "greet@production", "--var", "name=Ada"]
    assert _first(prompts, *load) == (0, "Hello Ada!\n", "")
    git(prompts.repo, "checkout", "-q", "--detach", "HEAD")
    assert _left(prompts, monkeypatch, *load) == (0, "Hello Ada!\n", "")
    git(prompts.repo, "checkout", "-q", "main")
    journal = prompts.repo / ".git" / "promptctl" / "landing.json"
    journal.write_text("{}")
    assert _first(prompts, *load) is None
    journal.unlink()
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(prompts.repo, "remote", "add", "origin", str(remote))
    assert _first(prompts, *load) is None
    code, _, err = prompts(*load)
    assert code == 0 and "configured origin" in err
    assert _first(prompts, *load) == (0, "Hello Ada!\n", "")


def test_a_first_load_process_imports_neither_the_registry_nor_yaml(prompts: Run) -> None:
    listing = ("import os, runpy, sys\nsys.argv = ['promptctl', *sys.argv[1:]]\n"
               "def listed_exit(code, _exit=os._exit):\n"
               "    print('\\n'.join(sorted(sys.modules)), file=sys.stderr, flush=True)\n"
               "    _exit(code)\n"
               "os._exit = listed_exit\nrunpy.run_module('promptctl', run_name='__main__')\n")
    (prompts.repo / ".git" / "promptctl" / coldload.FILE).unlink(missing_ok=True)
    done = subprocess.run([sys.executable, "-c", listing, "--registry", str(prompts.repo),
                           "load", "greet@production", "--var", "name=Ada"],
                          capture_output=True, text=True, check=True, env=os.environ)
    assert done.stdout == "Hello Ada!\n"
    loaded = set(done.stderr.split())
    heavy = {"promptctl.registry", "promptctl.index", "promptctl.models", "yaml", "subprocess",
             "dataclasses", "pathlib", "typer", "promptctl.cli.fast"}
    bare = subprocess.run([sys.executable, "-c", "import sys; print(*sys.modules)"],
                          capture_output=True, text=True, check=True).stdout.split()
    assert "sqlite3" in loaded
    assert sorted((loaded - set(bare)) & heavy) == []  # (an editable install has pathlib)


def test_a_repository_git_refuses_is_refused_as_the_whole_way_refuses_it(
        prompts: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    """Git will not work in a repository another user owns (``safe.directory``); the
    first load's git finds the repository as the whole way's does, and is refused too."""
    load = ["load", "greet@production", "--var", "name=Ada"]
    assert _first(prompts, *load) == (0, "Hello Ada!\n", "")
    monkeypatch.setenv("GIT_TEST_ASSUME_DIFFERENT_OWNER", "1")  # git's own test switch
    assert _first(prompts, *load) is None


def test_clones_of_a_bare_remote_pulling_with_rebase_and_merge(
        run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Plain clones of a bare remote; one registers and promotes, pushing; the other
    pulls with plain git (rebase, then merge over a hand edit of its own) and loads
    between: each first load answers as the whole way, or leaves the line to it."""
    assert run("register", "greet", "-t", "One {{ name }}")[0] == 0
    assert run("alias", "set", "greet", "production", "1")[0] == 0
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(run.repo), str(remote))
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for clone in (ours, theirs):
        git(tmp_path, "clone", "-q", str(remote), str(clone))
        git(clone, "config", "pull.rebase", "false")
    load = ["load", "greet@production", "--var", "name=Ada"]
    # A fresh clone: promptctl configures its fetch first, the whole way.
    assert _first(run, *load, registry=ours) is None
    assert _whole_way(run, monkeypatch, "--registry", str(ours), *load)[:2] == (0, "One Ada\n")
    assert _first(run, *load, registry=ours) == (0, "One Ada\n", "")
    their = ["--registry", str(theirs)]
    for args in (["register", "greet", "-t", "Two {{ name }}", "--push"],
                 ["alias", "set", "greet", "production", "2", "--push"]):
        assert run(*their, *args, registry=False)[0] == 0
    git(ours, "pull", "-q", "--rebase")
    for expected in (None, (0, "Two Ada\n", "")):  # the index catches up the whole way
        assert _first(run, *load, registry=ours) == expected
        assert _whole_way(run, monkeypatch, "--registry", str(ours), *load) == (
            0, "Two Ada\n", "")
    (ours / "prompts" / "notes.yaml").write_text("template: mine\n")
    git(ours, "add", "-A")
    git(ours, "commit", "-qm", "a prompt of our own")
    assert run(*their, "register", "greet", "-t", "Three {{ name }}", "--push",
               registry=False)[0] == 0
    assert run(*their, "alias", "set", "greet", "production", "3", "--push",
               registry=False)[0] == 0
    git(ours, "pull", "-q", "--no-edit")  # a merge commit
    assert _first(run, *load, registry=ours) is None
    whole = _whole_way(run, monkeypatch, "--registry", str(ours), *load)
    assert whole == (0, "Three Ada\n", "")
    assert _first(run, *load, registry=ours) == whole
    assert _first(run, "load", "greet/2", "--var", "name=Ada", registry=ours) == (
        0, "Two Ada\n", "")  # version 2 names what it named before the merge
