"""Several registries in one repository (a registry per team folder, or one at the root
beside one in a folder): each numbers its own prompts, never another folder's prompt of
the same name, whichever registry's version records a commit carries."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from promptctl import Registry
from promptctl.formats.records import VersionRecord, format_record, parse_records

from .helpers import Run, git


@pytest.fixture
def mono(repo_path: Path) -> Path:
    """The template registry moved into ``team-a/`` of its repository, and a copy of its
    folder as ``team-b/``: two registries, one repository."""
    root = repo_path.parent / "mono"
    shutil.copytree(repo_path, root / "team-a", symlinks=True)
    shutil.move(str(root / "team-a" / ".git"), str(root / ".git"))
    shutil.copytree(root / "team-a", root / "team-b")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "two registries")
    return root


def _history(root: Path, folder: str, name: str) -> list[tuple[int, str]]:
    with Registry(root / folder) as reg:
        return [(v.version, reg.load_prompt(f"{name}/{v.version}").template)
                for v in reg.history(name)]


def test_two_registries_in_folders_number_their_own_prompts(mono: Path, run: Run) -> None:
    for i in range(2):
        for team in ("team-a", "team-b"):
            code, _, err = run("--registry", str(mono / team), "register", "greet", "-t",
                               f"{team} {i}", registry=False)
            assert code == 0, err
    assert _history(mono, "team-a", "greet") == [(1, "team-a 0"), (2, "team-a 1")]
    assert _history(mono, "team-b", "greet") == [(1, "team-b 0"), (2, "team-b 1")]
    message = git(mono, "log", "-1", "--format=%B")
    assert [r.folder for r in parse_records(message)] == ["team-b"]
    # Built from scratch, as a fresh clone builds it: the same numbers.
    shutil.rmtree(mono / ".git" / "promptctl")
    assert _history(mono, "team-b", "greet") == [(1, "team-b 0"), (2, "team-b 1")]
    assert run("--registry", str(mono / "team-a"), "check", registry=False)[0] == 0


def test_a_root_registry_and_one_in_a_folder_keep_apart(repo_path: Path, run: Run) -> None:
    (repo_path / "team").mkdir()
    shutil.copy(repo_path / "promptctl.yaml", repo_path / "team" / "promptctl.yaml")
    git(repo_path, "add", "-A")
    git(repo_path, "commit", "-qm", "a registry in team/")
    for i, where in enumerate((repo_path / "team", repo_path, repo_path / "team")):
        assert run("--registry", str(where), "register", "greet", "-t", f"{where.name} {i}",
                   registry=False)[0] == 0
    assert _history(repo_path, "team", "greet") == [(1, "team 0"), (2, "team 2")]
    assert _history(repo_path, ".", "greet") == [(1, "repo 1")]


def test_a_record_from_before_folders_were_named_is_checked_against_the_tree(
        mono: Path) -> None:
    """An older promptctl wrote team-a's record without its folder: team-a still takes
    it, team-b sees that the commit does not hold its file and numbers nothing."""
    prompt = mono / "team-a" / "prompts" / "greet.yaml"
    prompt.write_text("template: old\n")
    git(mono, "add", "-A")
    tree = git(mono, "write-tree").strip()
    blob = git(mono, "rev-parse", f"{tree}:team-a/prompts/greet.yaml").strip()
    message = f"old\n\n{format_record(VersionRecord('greet', 1, blob, tree, True))}\n"
    parent = git(mono, "rev-parse", "HEAD").strip()
    commit = git(mono, "commit-tree", tree, "-p", parent, "-m", message).strip()
    git(mono, "update-ref", "refs/heads/main", commit)
    git(mono, "reset", "-q")
    assert _history(mono, "team-a", "greet") == [(1, "old")]
    with Registry(mono / "team-b") as reg:
        assert reg.list_prompts() == []


def test_two_teams_in_two_clones_keep_their_numbers_through_pull_and_push(
        mono: Path, run: Run, tmp_path: Path) -> None:
    """Each team registers `greet` in its own folder from its own clone; plain `git pull`
    (rebase, then merge) and `git push` between their commands; both clones, and a fresh
    one, number each folder's prompt apart."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(mono), str(remote))
    a, b = tmp_path / "a", tmp_path / "b"
    for clone in (a, b):
        git(tmp_path, "clone", "-q", str(remote), str(clone))

    def register(clone: Path, team: str, text: str) -> None:
        code, _, err = run("--registry", str(clone / team), "register", "greet", "-t", text,
                           registry=False)
        assert code == 0, err

    register(a, "team-a", "a1")
    git(a, "push", "-q", "origin", "main")
    register(b, "team-b", "b1")
    git(b, "pull", "-q", "--rebase")
    git(b, "push", "-q", "origin", "main")
    register(a, "team-a", "a2")
    git(a, "pull", "-q", "--no-rebase", "--no-edit")  # a merge commit this time
    git(a, "push", "-q", "origin", "main")
    git(b, "pull", "-q", "--rebase")
    fresh = tmp_path / "fresh"
    git(tmp_path, "clone", "-q", str(remote), str(fresh))
    for clone in (a, b, fresh):
        assert _history(clone, "team-a", "greet") == [(1, "a1"), (2, "a2")]
        assert _history(clone, "team-b", "greet") == [(1, "b1")]
