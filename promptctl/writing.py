"""Writing a version: one prompt file committed on the branch, all or nothing.

The commit is built from objects (blob, trees, commit with its version record), never
through the user's index, so their staged work stays theirs. Then three changes, each
undone if a later one fails: the user's copy of the file, its index entry, and last the
branch itself, moved by compare-and-swap. A write that fails (a held ``index.lock``, a
full disk, someone else moving the branch) leaves the file, the index and the branch as
they were, and says why; the branch moves last, so a process killed half way never
leaves a commit that the user's index and files do not match.

Before that: refuse to write on a detached HEAD or in the middle of a merge or rebase,
and refuse to overwrite edits of the user's to the file.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from . import journal
from .errors import Conflict, PromptctlError
from .formats.records import VersionRecord, fits, with_record
from .git.objects import blob_id
from .git.refs import Head

if TYPE_CHECKING:
    from .git import Repo
    from .snapshot import Snapshot


class Writer(NamedTuple):
    """What a write needs, read inside the write mutex: the repository, the snapshot of
    the branch it writes to, who writes, and the registry branch (``None``: this one)."""

    repo: Repo
    snapshot: Snapshot
    author: tuple[str, str] | None
    registry_branch: str | None

    @property
    def final(self) -> bool:
        """True when versions made here are final: this is the registry branch."""
        head = self.snapshot.head.ref
        return self.registry_branch is None or head == self.registry_branch


class Commit(NamedTuple):
    """A version commit built on ``parent`` (not on any branch yet)."""

    commit: str
    parent: str | None
    path: str
    data: bytes
    blob: str


def writable_head(repo: Repo) -> Head:
    """HEAD, when a write may move its branch; else a :class:`Conflict` saying why not."""
    head = repo.refs.head()
    if head.ref is None:
        raise Conflict("HEAD is detached; check out a branch to write to the registry")
    busy = repo.refs.in_progress_operation()
    if busy:
        raise Conflict(f"the repository is in the middle of {busy}; finish or abort it first")
    return head


def build_version(writer: Writer, parent: str | None, path: str, name: str, number: int,
                  data: bytes, note: str) -> Commit:
    """The commit that makes ``data`` version ``number`` of ``name`` on ``parent``, its
    version record in the message (final on the registry branch, else a draft; none in
    a folder a record cannot name, where the index numbers the commit by its change)."""
    folder = writer.snapshot.index.folder
    return build_commit(writer, parent, path, data, note,
                        lambda blob, tree: VersionRecord(name, number, blob, tree, writer.final,
                                                         folder) if fits(folder) else None)


def build_commit(writer: Writer, parent: str | None, path: str, data: bytes, message: str,
                 record: Callable[[str, str], VersionRecord | None] | None = None) -> Commit:
    """The commit of ``parent``'s tree with ``path`` holding ``data`` (on no branch yet);
    ``record`` makes its version record from the blob and tree ids."""
    objects = writer.repo.objects
    blob = objects.write("blob", data)
    base = objects.commit_tree(parent) if parent else None
    tree = objects.tree_with_file(base, path, blob)
    made = record(blob, tree) if record is not None else None
    if made is not None:
        message = with_record(message, made)
    commit = writer.repo.commits.create(tree, (parent,) if parent else (), message,
                                        writer.author)
    objects.remember_path(commit, path, blob)  # read back at once: the index, the answer
    return Commit(commit, parent, path, data, blob)


class UserCopy(NamedTuple):
    """The user's copy of a path before a write: its file and its index entry, and the
    blob id of the file when that blob is known to be stored already (``stored``)."""

    data: bytes | None
    entry: tuple[str, str] | None
    stored: str | None = None


def user_copy(repo: Repo, path: str) -> UserCopy:
    """The user's file and index entry of ``path`` now."""
    return UserCopy(repo.worktree.read(path), repo.worktree.staged(path))


def land(repo: Repo, branch: str, made: Commit, reason: str,
         before: UserCopy | None = None) -> None:
    """Move ``branch`` from ``made.parent`` to ``made.commit``, the user's file and index
    entry with it (``before``: what they held, if read already); on any failure,
    everything as it was (see the module docstring). The landing journal notes the three
    steps first, so that one killed half way is put back by the next write (:func:`recover`)."""
    if repo.bare:
        repo.ref_updates.move(branch, made.commit, made.parent, reason)
        return
    worktree = repo.worktree
    before = before or user_copy(repo, made.path)
    old_file, old_entry = before.data, before.entry
    mode = old_entry[0] if old_entry and old_entry[0] in ("100644", "100755") else "100644"
    # The old file is kept as an object: most often it is the committed one, already
    # stored, or the new one, just written.
    old_blob = (before.stored or (made.blob if old_file == made.data else None)
                or (repo.objects.write("blob", old_file) if old_file is not None else None))
    journal.begin(repo.git_dir, journal.Landing(
        branch, made.parent, made.commit, made.path, old_blob, old_entry, made.blob, mode,
        os.getpid()))
    undo: list[Callable[[], None]] = []
    try:
        worktree.write(made.path, made.data, mode)
        undo.append(lambda: worktree.write(made.path, old_file, mode))
        worktree.stage(made.path, (mode, made.blob))
        undo.append(lambda: worktree.stage(made.path, old_entry))
        repo.ref_updates.move(branch, made.commit, made.parent, reason)
    except BaseException:
        undone = True
        for step in reversed(undo):
            try:
                step()
            except PromptctlError:  # the first failure is the one to report
                undone = False  # the journal stays: the next write puts it back
        if undone:
            journal.end(repo.git_dir)
        raise
    journal.end(repo.git_dir)


def recover(repo: Repo) -> str | None:
    """Put back a landing a killed process left half done (its journal says which); what
    was done, for the user, or ``None`` when there was nothing to do. The caller holds
    the write mutex.

    The branch move is the landing's commit point. If the branch holds the new content
    (it moved, or the content got committed since), nothing is undone. Otherwise the
    version was never made: the file and the index entry go back to what they held,
    each only while it still holds what the landing wrote, so later work of the user's
    is never overwritten.
    """
    landing = journal.read(repo.git_dir)
    if landing is None:  # unreadable: it was never a whole journal, nothing was changed
        journal.end(repo.git_dir)
        return None
    worktree, path = repo.worktree, landing.path
    with contextlib.suppress(OSError):  # the temporary file a kill in worktree.write leaves
        os.unlink(worktree.root / os.path.dirname(path)
                  / f".{os.path.basename(path)}.promptctl-{landing.pid}")
    tip = repo.refs.resolve(landing.branch)
    if tip == landing.commit or (tip is not None
                                 and repo.objects.entry_id(tip, path) == landing.new_blob):
        journal.end(repo.git_dir)
        return None  # it landed: the file, the index and the branch agree
    kept = []
    entry = worktree.staged(path)
    if entry == (landing.mode, landing.new_blob):
        worktree.stage(path, landing.old_entry)
    elif entry != landing.old_entry:
        kept.append("index entry")
    data = worktree.read(path)
    now = blob_id(data) if data is not None else None
    old = repo.objects.read(landing.old_blob) if landing.old_blob else None
    if now == landing.new_blob and (landing.old_blob is None or old is not None):
        worktree.write(path, old[1] if old is not None else None, landing.mode)
    elif now != landing.old_blob:
        kept.append("file")
    journal.end(repo.git_dir)
    note = (f"put back {path} and its index entry as they were before an interrupted "
            "register (its version was never made)")
    if kept:
        note += f"; your {' and '.join(kept)} changed since, kept as they are"
    return note


def refuse_edits(repo: Repo, path: str, data: bytes, committed: tuple[bytes, str] | None,
                 copy: UserCopy | None = None) -> UserCopy | None:
    """Refuse when the user has edits of ``path`` (staged or not), unless they are ``data``.

    ``committed`` is the newest version's bytes and blob (the file at the tip), if any;
    ``copy`` the user's copy, if read already. Returns what the user's copy holds
    (``None`` in a bare repository).
    """
    if repo.bare:
        return None  # promptctl's own clone of a remote registry: no working tree to guard
    copy = copy or user_copy(repo, path)
    staged_blob = copy.entry[1] if copy.entry else None
    committed_data, committed_blob = committed if committed else (None, None)
    if copy.data == committed_data and staged_blob == committed_blob:
        return UserCopy(copy.data, copy.entry, committed_blob)  # the committed file
    if copy.data != data or staged_blob not in (committed_blob, blob_id(data)):
        # Their copy or their staged entry holds something neither committed nor being
        # registered: writing would throw that work away.
        raise Conflict(
            f"{path} has uncommitted changes; commit or stash them first "
            f"(or register them: promptctl register NAME -f {path})"
        )
    return copy
