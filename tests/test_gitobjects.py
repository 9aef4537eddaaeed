"""Tree editing without git, checked against git itself."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from promptctl.git import digest
from promptctl.git.objects import BLOB_MODE, Objects, serialize_tree, tree_with_file

from .helpers import git


def write_object(objects_dir: Path, kind: str, data: bytes) -> str:
    """Write a loose object the way promptctl does (``objects_dir`` is ``.git/objects``)."""
    git_dir = objects_dir.parent
    return Objects(git_dir.parent, git_dir).write(kind, data)


def _store(repo: Path) -> tuple[object, object]:
    objects = repo / ".git" / "objects"

    def read(oid: str) -> bytes:
        return subprocess.run(["git", "cat-file", "tree", oid], cwd=repo, capture_output=True,
                              check=True).stdout

    return read, lambda data: write_object(objects, "tree", data)


def test_tree_edits_match_git(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "r")
    repo = tmp_path / "r"
    blob = write_object(repo / ".git" / "objects", "blob", b"hello\n")
    other = write_object(repo / ".git" / "objects", "blob", b"other\n")
    read, write = _store(repo)
    # A file whose name ends with the key we look for must not be mistaken for it.
    tricky = write(serialize_tree([
        (BLOB_MODE, b"x 100644 a.yaml", bytes.fromhex(other)),
        (BLOB_MODE, b"a.yaml", bytes.fromhex(other)),
    ]))
    tree = tree_with_file(read, write, tricky, "a.yaml", blob)
    listing = git(repo, "ls-tree", tree)
    assert f"{blob}\ta.yaml" in listing and f"{other}\tx 100644 a.yaml" in listing
    nested = tree_with_file(read, write, tree, "prompts/team/new.yaml", blob)
    nested = tree_with_file(read, write, nested, "prompts/a-b.yaml", other)
    nested = tree_with_file(read, write, nested, "prompts/team/new.yaml", other)
    assert git(repo, "ls-tree", "-r", "--name-only", nested).split("\n")[:4] == [
        "a.yaml", "prompts/a-b.yaml", "prompts/team/new.yaml", "x 100644 a.yaml"]
    commit = git(repo, "commit-tree", nested, "-m", "x").strip()
    git(repo, "update-ref", "refs/heads/main", commit)
    git(repo, "fsck", "--strict", "--no-progress")


def test_object_ids_are_gits_for_small_and_large_objects(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Before and after the process moves from ``_sha1`` to OpenSSL."""
    monkeypatch.setattr(digest, "_hashed", 0)  # as in a new process
    git(tmp_path, "init", "-q", "r")
    repo = tmp_path / "r"
    for size in (0, 1, 1000, digest.BUDGET, 3 * digest.BUDGET, 5):
        data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
        (tmp_path / "f").write_bytes(data)
        expected = git(repo, "hash-object", str(tmp_path / "f")).strip()
        assert write_object(repo / ".git" / "objects", "blob", data) == expected, size
    assert digest._hashed == digest.BUDGET  # it did move
