"""Writing: objects, a commit of one file, refs moved by compare-and-swap, tags, the worktree.

Writes never touch the user's index or working tree beyond the one prompt file written:
a commit's tree is built from objects (``gitobjects``), never through the user's index,
and a branch is moved with ``update-ref NEW OLD``, a compare-and-swap that fails if
anyone moved it first. promptctl's own writers serialize on a lock file in the git dir.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator, Sequence

from .errors import Conflict, GitError
from .gitrepo_commands import GitCommands, identity_env
from .gitrepo_files import ZERO_OID, Head
from .gitrepo_history import LogEntry

_LOCK_NAME = "promptctl.lock"

# A ref change for update_refs: (refname, new or None to delete, old or None if absent).
RefUpdate = tuple[str, str | None, str | None]


class GitWrites(GitCommands):
    """What promptctl writes into a repository, and nothing more."""

    @contextlib.contextmanager
    def write_lock(self) -> Iterator[None]:
        """Serialize promptctl writers on this repository (other writers are caught by CAS)."""
        with open(self.common_dir / _LOCK_NAME, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def write_object(self, kind: str, data: bytes) -> str:
        """Store an object (``blob``, ``tree``, ``tag``) and return its id (see ``gitobjects``)."""
        from . import gitobjects

        if not gitobjects.sha1_repository(self.common_dir):
            raise GitError("write", "SHA-256 repositories are not supported for writing yet")
        return gitobjects.write_object(self.common_dir / "objects", kind, data)

    def _empty_tree(self) -> str:
        # Written, not assumed: a commit must not name a tree the repository lacks, or
        # push and fsck complain.
        return self.write_object("tree", b"")

    def commit_file(
        self,
        head: Head,
        path: str,
        data: bytes,
        message: str,
        *,
        author: tuple[str, str] | None = None,
        expect: str | None = None,
    ) -> LogEntry:
        """Commit ``data`` at ``path`` on top of ``head``, move its branch, return the commit.

        The new tree is built from objects, never through the user's index, so their
        staged work stays theirs. The branch moves only if it still points where ``head``
        says (compare-and-swap), or at ``expect`` when given (re-making a commit on a new
        parent, as after a lost push race).
        """
        assert head.ref is not None
        blob = self.write_object("blob", data)
        base = None
        if head.commit:
            found = self.read_object(head.commit)
            assert found is not None and found[0] == "commit"
            base = found[1][5:45].decode()  # a commit starts with "tree <id>"
        from .gitobjects import tree_with_file

        tree = tree_with_file(
            self._read_tree, lambda content: self.write_object("tree", content), base, path, blob
        )
        parents = ["-p", head.commit] if head.commit else []
        env = identity_env(author)
        commit = (self._git("commit-tree", tree, *parents, "-m", message, env=env) or "").strip()
        existed = head.commit is not None and self.read_blob(head.commit, path) is not None
        self.move_ref(head.ref, commit, expect or head.commit,
                      f"promptctl: {message.splitlines()[0]}")
        return self._log_entry(commit, (("M" if existed else "A", path, blob),))

    def _log_entry(self, commit: str, changes: tuple[tuple[str, str, str], ...]) -> LogEntry:
        """A commit we just made, as ``log_first_parent`` would report it."""
        found = self.read_object(commit)
        assert found is not None and found[0] == "commit"
        header, _, message = found[1].decode("utf-8", "replace").partition("\n\n")
        fields = [line.split(" ", 1) for line in header.splitlines() if " " in line]
        parents = tuple(value for key, value in fields if key == "parent")
        ident = next(value for key, value in fields if key == "author")
        who, _, when = ident.rpartition("> ")
        name, _, email = who.partition(" <")
        return LogEntry(commit, parents, name, email, int(when.split()[0]), message.strip(), changes)

    def _read_tree(self, oid: str) -> bytes | None:
        found = self.read_object(oid)
        return found[1] if found and found[0] == "tree" else None

    def move_ref(self, refname: str, new: str, old: str | None, reason: str) -> None:
        """Point ``refname`` at ``new`` only if it still points at ``old`` (``None``: absent)."""
        try:
            self._git("update-ref", "-m", reason, refname, new, old or ZERO_OID)
        except GitError as exc:
            raise Conflict(f"{refname} was changed by someone else meanwhile; try again") from exc

    def update_refs(self, changes: Sequence[RefUpdate], reason: str) -> None:
        """Apply ``(refname, new, old)`` changes in one all-or-nothing transaction.

        ``new`` ``None`` deletes the ref, ``old`` ``None`` requires it to be absent.
        Raises :class:`GitError` (nothing changed) when any ref is not where ``old`` says.
        """
        lines = []
        for refname, new, old in changes:
            if new is None:
                lines.append(f"delete {refname} {old or ZERO_OID}")
            else:
                lines.append(f"update {refname} {new} {old or ZERO_OID}")
        self._git("update-ref", "-m", reason, "--stdin", input="\n".join(lines) + "\n")

    def create_tag(
        self, name: str, commit: str, message: str, *, author: tuple[str, str] | None = None
    ) -> str:
        """Write an annotated tag object for ``commit`` (no ref yet) and return its id."""
        info = identity_env(author)
        tagger = (self._git("var", "GIT_COMMITTER_IDENT", env=info) or "").strip()
        body = f"object {commit}\ntype commit\ntag {name}\ntagger {tagger}\n\n{message.rstrip()}\n"
        return self.write_object("tag", body.encode())

    def staged_blob(self, path: str) -> str | None:
        """The blob the user's index holds for ``path`` (``None``: not in the index).

        A path in a merge conflict gives ``"conflict"``. Much cheaper than ``status``,
        which stats the whole working tree.
        """
        out = (self._git("ls-files", "--stage", "--", path) or "").splitlines()
        if not out:
            return None
        return out[0].split()[1] if len(out) == 1 else "conflict"

    def sync_worktree(self, path: str, data: bytes) -> None:
        """Make the user's copy and index entry of ``path`` match what was just committed."""
        if self.bare:
            return
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{target.name}.promptctl-{os.getpid()}")
        temp.write_bytes(data)
        os.replace(temp, target)
        self._git("update-index", "--add", "--", path)

    def update_worktree(self, old: str, new: str) -> None:
        """Carry the user's index and files from commit ``old`` to ``new``, as a checkout would.

        ``read-tree -m -u`` touches only the paths that differ and refuses (a
        :class:`Conflict`, nothing changed) when one of them has local edits.
        """
        try:
            self._git("read-tree", "-m", "-u", old, new)
        except GitError as exc:
            raise Conflict(f"cannot update your working tree: {exc.detail}") from exc
