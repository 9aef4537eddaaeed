"""Writing a version: one prompt file committed on the branch, the user's own work left alone.

The commit itself is ``gitrepo``'s: built from objects in a throwaway index, the branch
moved by compare-and-swap. This module does what goes around it: refuse to write on a
detached HEAD or in the middle of a merge or rebase, refuse to overwrite edits of the
user's to the file, bring the user's copy and index entry to what was committed, keep
the version index in step, and push when asked to.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from .errors import Conflict
from .formats.references import parse_author

if TYPE_CHECKING:
    from .gitrepo import GitRepo, Head, LogEntry
    from .index import VersionIndex, VersionRow
    from .versions import Versions


def writable_head(repo: GitRepo) -> Head:
    """HEAD, when a write may move its branch; else a :class:`Conflict` saying why not."""
    head = repo.head()
    if head.ref is None:
        raise Conflict("HEAD is detached; check out a branch to write to the registry")
    busy = repo.in_progress_operation()
    if busy:
        raise Conflict(f"the repository is in the middle of {busy}; finish or abort it first")
    return head


def commit_file(repo: GitRepo, head: Head, path: str, data: bytes, message: str,
                author: str | None) -> LogEntry:
    """Commit ``data`` at ``path`` on ``head``'s branch, the user's copy updated to match.

    The caller holds the repository's write lock. ``author`` is ``'Name <email>'`` (else
    Git's identity).
    """
    made = repo.commit_file(head, path, data, message, author=parse_author(author))
    repo.sync_worktree(path, data)
    return made


def commit_version(versions: Versions, name: str, data: bytes, message: str | None, *,
                   author: str | None, push: bool) -> tuple[VersionIndex, VersionRow, bool]:
    """Commit ``data`` as the next version of ``name``, unless it is the newest already.

    Returns the index, the version's row and whether it was made. ``push`` pushes the
    commit to ``origin``, re-made on the remote's tip if that moved (see ``push``).
    """
    repo = versions.repo
    with repo.write_lock():
        head = writable_head(repo)
        index = versions.index(head)
        path = index.path_of(name)
        current = index.newest(name)
        committed = versions.read_file(current) if current else None
        if current is not None and committed == data:
            return index, current, False
        _refuse_edits(repo, path, data, current, committed)
        note = message or (f"Update {name}" if current else f"Create {name}")
        made = commit_file(repo, head, path, data, note, author)
        versions.refresh(index, made.commit, made=made)
    if push:
        from .push import push_commit

        remote = versions.remote
        refetch = None if remote is None else functools.partial(remote.sync, force=True)
        landed = push_commit(repo, made, path, data, note, author=parse_author(author),
                             refetch=refetch)
        if landed.commit != made.commit:
            made = landed
            versions.refresh(index, made.commit)
    row = index.newest(name)
    assert row is not None and row.commit == made.commit
    return index, row, True


def _refuse_edits(repo: GitRepo, path: str, data: bytes, current: VersionRow | None,
                  committed: bytes | None) -> None:
    """Refuse when the user has edits of ``path`` (staged or not), unless they are ``data``.

    ``current``/``committed``: the newest version's row and bytes (the file at HEAD).
    """
    if repo.bare:
        return  # promptctl's own clone of a remote registry: no working tree to guard
    try:
        on_disk: bytes | None = (repo.root / path).read_bytes()
    except FileNotFoundError:
        on_disk = None
    staged = repo.staged_blob(path)
    if on_disk == committed and staged == (current.blob if current else None):
        return
    if on_disk != data:
        raise Conflict(
            f"{path} has uncommitted changes; commit or stash them first "
            f"(or register them: promptctl register NAME -f {path})"
        )
