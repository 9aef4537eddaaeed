"""Everything promptctl asks of Git, and the only module that talks to it.

Two paths, on purpose:

* Reads that sit on the hot path of ``load`` (HEAD, refs, objects) go straight to the
  ref files and to one long-lived ``git cat-file --batch`` process. Importing GitPython
  costs ~50 ms, a third of the cold ``promptctl load`` budget, and a load needs none of it.
* Everything else (history, commits, tags) runs through GitPython's command layer,
  imported on first use, which gives us one place where ``GitCommandError`` is turned
  into our own errors.

Writes never touch the user's index or working tree beyond the one prompt file written:
a commit is built in a throwaway index (``GIT_INDEX_FILE``) and the branch is moved with
``update-ref NEW OLD``, a compare-and-swap that fails if anyone moved it first.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .errors import Conflict, GitError, InvalidInput, NotFound, RemoteUnreachable

if TYPE_CHECKING:
    import git

# heapq, random, shutil, tempfile and gitobjects are imported where they are used:
# none is needed to read refs and objects, which is all `promptctl load` does.

ZERO_OID = "0" * 40
_LOCK_NAME = "promptctl.lock"
_UNSHALLOW_LOCK_NAME = "promptctl-unshallow.lock"
_APPEND_ATTEMPTS = 50

# A ref change for GitRepo.update_refs: (refname, new or None to delete, old or None if absent).
RefUpdate = tuple[str, str | None, str | None]


@dataclass(frozen=True)
class Head:
    """Where HEAD is: ``ref`` is ``None`` when detached, ``commit`` ``None`` when unborn."""

    ref: str | None
    commit: str | None


@dataclass(frozen=True)
class Ref:
    """A ref and the object it names; ``peeled`` is the commit under an annotated tag if known."""

    name: str
    target: str
    peeled: str | None = None


@dataclass(frozen=True)
class LogEntry:
    """One commit of a first-parent walk and the files it changed (relative to the repo root).

    ``changes`` holds ``(status, path, blob)`` with status ``A``, ``M``, ``D`` or ``T``.
    """

    commit: str
    parents: tuple[str, ...]
    author: str
    email: str
    timestamp: int
    message: str
    changes: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class FileChange:
    """One file that differs between two commits (paths relative to the repo root).

    ``status`` is ``A``, ``D``, ``M``, ``T`` or ``R`` (a rename: ``old_path`` became
    ``path``, possibly with edits); a blob is ``None`` on the side the file is absent from.
    """

    status: str
    old_path: str
    path: str
    old_blob: str | None
    blob: str | None


class GitRepo:
    """A Git repository (or a worktree of one) seen from promptctl."""

    def __init__(self, root: Path, git_dir: Path, common_dir: Path) -> None:
        self.root = root
        self.git_dir = git_dir
        self.common_dir = common_dir
        self._catfile: subprocess.Popen[bytes] | None = None
        self._packed_cache: tuple[tuple[int, int, int], str] | None = None
        self._cmd: git.Git | None = None

    # -- finding and making repositories -------------------------------------------------

    @classmethod
    def find(cls, start: Path) -> GitRepo | None:
        """The repository whose working tree contains ``start``, or ``None``."""
        for folder in (start, *start.parents):
            dot_git = folder / ".git"
            if dot_git.is_dir():
                return cls._at(folder, dot_git)
            if dot_git.is_file():  # a linked worktree or submodule: "gitdir: <path>"
                text = dot_git.read_text().strip()
                if text.startswith("gitdir:"):
                    return cls._at(folder, (folder / text[7:].strip()).resolve())
        return None

    @classmethod
    def _at(cls, root: Path, git_dir: Path) -> GitRepo:
        common = git_dir
        commondir_file = git_dir / "commondir"
        if commondir_file.is_file():
            common = (git_dir / commondir_file.read_text().strip()).resolve()
        return cls(root, git_dir, common)

    @classmethod
    def open_bare(cls, path: Path) -> GitRepo:
        """A bare repository (promptctl's own clone of a remote registry): no working tree."""
        return cls(path, path, path)

    @property
    def bare(self) -> bool:
        """True for a repository without a working tree."""
        return self.root == self.git_dir

    @classmethod
    def init(cls, path: Path) -> GitRepo:
        """Run ``git init`` in ``path`` (made if missing) and return the repository."""
        path.mkdir(parents=True, exist_ok=True)
        _run_plain(["git", "init", "--quiet", str(path)], "init")
        repo = cls.find(path)
        assert repo is not None
        return repo

    def close(self) -> None:
        """Stop the helper processes; the object stays usable and restarts them on demand."""
        if self._catfile is not None:
            with contextlib.suppress(OSError):
                assert self._catfile.stdin is not None
                self._catfile.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._catfile.wait(timeout=2)
            if self._catfile.poll() is None:
                self._catfile.kill()
            self._catfile = None
        if self._cmd is not None:
            self._cmd.clear_cache()
            self._cmd = None

    def __del__(self) -> None:  # pragma: no cover - best effort at interpreter exit
        with contextlib.suppress(Exception):
            self.close()

    # -- refs, read from the files themselves --------------------------------------------

    def head(self) -> Head:
        """Read HEAD: the branch it is on (if any) and the commit (if any)."""
        text = (self.git_dir / "HEAD").read_text().strip()
        if text.startswith("ref:"):
            ref = text[4:].strip()
            return Head(ref, self.resolve(ref))
        return Head(None, text)

    def in_progress_operation(self) -> str | None:
        """The name of a merge, rebase, cherry-pick or bisect under way, else ``None``."""
        for marker, what in (
            ("MERGE_HEAD", "a merge"),
            ("rebase-merge", "a rebase"),
            ("rebase-apply", "a rebase"),
            ("CHERRY_PICK_HEAD", "a cherry-pick"),
            ("REVERT_HEAD", "a revert"),
        ):
            if (self.git_dir / marker).exists():
                return what
        return None

    def resolve(self, refname: str) -> str | None:
        """The object id a ref points to (not peeled), or ``None`` if there is no such ref."""
        loose = self._read_loose(refname)
        if loose is not None:
            return loose
        packed = self._packed(refname).get(refname)
        return packed.target if packed else None

    def refs(self, prefix: str) -> dict[str, Ref]:
        """Every ref whose name starts with ``prefix``, loose ones overriding packed ones."""
        found = self._packed(prefix)
        folder, _, stem = prefix.rpartition("/")
        base = self.common_dir / folder
        for dirpath, _dirs, files in os.walk(base):
            rel = Path(dirpath).relative_to(self.common_dir).as_posix()
            for file in files:
                name = f"{rel}/{file}"
                if name.startswith(prefix) and not file.endswith(".lock"):
                    target = self._read_loose(name)
                    if target is not None:
                        found[name] = Ref(name, target)
            if stem:  # only the top folder can hold names with a partial last part
                _dirs[:] = [d for d in _dirs if d.startswith(stem)]
        return found

    def _read_loose(self, refname: str) -> str | None:
        try:
            text = (self.common_dir / refname).read_text().strip()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        if text.startswith("ref:"):
            return self.resolve(text[4:].strip())
        return text or None

    def _packed(self, prefix: str) -> dict[str, Ref]:
        """The packed refs whose names start with ``prefix``.

        The file is sorted, so they stand together: one ``find`` locates the block and
        only its lines are parsed. With tens of thousands of aliases, parsing the whole
        file (~15 ms) would be most of a cold ``load``; finding the block is ~0.2 ms.
        """
        text = self._packed_text()
        if not text:
            return {}
        if "sorted" in text[: text.find("\n")]:
            hit = text.find(" " + prefix)
            if hit < 0:
                return {}
            start = text.rfind("\n", 0, hit) + 1
        else:  # an unsorted file (very old git): read it all
            start = 0
        found: dict[str, Ref] = {}
        last: Ref | None = None
        for line in text[start:].splitlines():
            if line.startswith("^"):
                if last is not None:
                    last = found[last.name] = Ref(last.name, last.target, line[1:])
                continue
            if not line or line.startswith("#"):
                continue
            target, _, name = line.partition(" ")
            if not name.startswith(prefix):
                if start:
                    break  # past the block
                last = None
                continue
            last = found[name] = Ref(name, target)
        return found

    def _packed_text(self) -> str:
        # Read once per change of the file: the stat costs microseconds.
        path = self.common_dir / "packed-refs"
        try:
            st = path.stat()
        except FileNotFoundError:
            return ""
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        if self._packed_cache is None or self._packed_cache[0] != stamp:
            self._packed_cache = (stamp, path.read_text())
        return self._packed_cache[1]

    # -- objects, through one long-lived cat-file process --------------------------------

    def read_object(self, spec: str) -> tuple[str, bytes] | None:
        """``(type, content)`` of the object ``spec`` names (``rev:path`` works), or ``None``."""
        proc = self._catfile
        if proc is None or proc.poll() is not None:
            proc = self._catfile = subprocess.Popen(
                ["git", "cat-file", "--batch"],
                cwd=self.root,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(spec.encode() + b"\n")
        proc.stdin.flush()
        header = proc.stdout.readline().split()
        if len(header) != 3:  # "<spec> missing" or "<spec> ambiguous"
            return None
        size = int(header[2])
        data = _read_exact(proc.stdout, size + 1)[:-1]
        return header[1].decode(), data

    def read_blob(self, commit: str, path: str) -> bytes | None:
        """The content of ``path`` at ``commit``, or ``None`` when it is not there."""
        found = self.read_object(f"{commit}:{path}")
        return found[1] if found and found[0] == "blob" else None

    def peel(self, ref: Ref) -> str | None:
        """The commit a ref finally points to, following annotated tags."""
        if ref.peeled:
            return ref.peeled
        target = ref.target
        for _ in range(10):  # tags of tags are legal; loops are not
            found = self.read_object(target)
            if found is None:
                return None
            kind, data = found
            if kind != "tag":
                return target if kind == "commit" else None
            target = data.split(b"\n", 1)[0].split()[1].decode()
        return None

    # -- history, through GitPython ---------------------------------------------------------

    def log_first_parent(
        self, tip: str, *, since: str | None = None, paths: Sequence[str] = ()
    ) -> Iterator[LogEntry]:
        """Commits on the first-parent line from ``since`` (exclusive) to ``tip``, oldest first.

        Merges are diffed against their first parent, so a prompt changed on a merged
        branch counts once, at the merge, as a version of this line.
        """
        args = [
            # Small pack windows and delta cache: on a 100,000-commit history git's own
            # defaults held ~700 MB for the same speed (measured: 72 s either way).
            "-c", "core.packedGitLimit=32m", "-c", "core.packedGitWindowSize=8m",
            "-c", "core.deltaBaseCacheLimit=8m",
            "log", "--first-parent", "--diff-merges=first-parent", "--no-renames", "--raw",
            "--reverse", "--no-abbrev", "--format=%x1e%H%x1f%P%x1f%an%x1f%ae%x1f%at%x1f%B%x1f",
            f"{since}..{tip}" if since else tip, "--", *paths,
        ]
        with self._stream(args) as out:
            buffer = b""
            for chunk in iter(lambda: out.read(1 << 16), b""):
                buffer += chunk
                *records, buffer = buffer.split(b"\x1e")
                for record in records:
                    if record:
                        yield _parse_log_record(record)
            if buffer.strip():
                yield _parse_log_record(buffer)

    def count_first_parent(self, tip: str) -> int:
        """How many commits the first-parent line up to ``tip`` holds (for a progress bar)."""
        return int((self._git("rev-list", "--first-parent", "--count", tip) or "0").strip())

    def last_change(self, commit: str, path: str) -> str | None:
        """The newest commit on the first-parent line of ``commit`` that changed ``path``."""
        out = self._git(
            "log", "--first-parent", "--diff-merges=first-parent", "-1", "--format=%H",
            commit, "--", path, check=False,
        )
        return out.strip() or None if out else None

    def is_shallow(self) -> bool:
        """True for a shallow clone, whose history stops short."""
        return (self.common_dir / "shallow").exists()

    def unshallow(self) -> str | None:
        """Fetch the history and tags a shallow clone lacks; return the remote fetched from.

        The remote is the one the current branch tracks, else ``origin``. Tags are fetched
        without ``--force``: a local alias that differs from the remote's stays as it is.
        Returns ``None`` when another process deepened the clone while this one waited.
        Raises :class:`GitError` when there is no remote, the fetch fails, or the clone is
        still shallow afterwards.
        """
        remote = self._history_remote()
        if remote is None:
            raise GitError("fetch", "the repository has no remote to fetch the history from")
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}  # fail, never wait for a password
        lock = self.common_dir / _UNSHALLOW_LOCK_NAME
        try:
            handle = open(lock, "a")  # noqa: SIM115 - closed below, whatever happens
        except OSError as exc:
            raise GitError("fetch", f"cannot lock {lock}: {exc.strerror}") from exc
        with handle:
            # One fetch at a time: processes started together on a fresh CI checkout wait
            # for the first one and find the history already there.
            fcntl.flock(handle, fcntl.LOCK_EX)
            if not self.is_shallow():
                return None
            try:
                self._git("fetch", "--quiet", "--unshallow", "--tags", remote, env=env)
            except GitError:
                if self.is_shallow():
                    raise
                # The history arrived and only a tag was refused (a local alias differs
                # from the remote's): the whole history is what we came for.
        if self.is_shallow():
            raise GitError("fetch", f"the clone is still shallow after fetching from {remote!r}")
        return remote

    def _history_remote(self) -> str | None:
        """The remote the current branch tracks, else ``origin`` if it exists, else ``None``."""
        remotes = (self._git("remote", check=False) or "").split()
        ref = self.head().ref
        if ref is not None and ref.startswith("refs/heads/"):
            key = f"branch.{ref.removeprefix('refs/heads/')}.remote"
            tracked = (self._git("config", "--get", key, check=False) or "").strip()
            if tracked in remotes:
                return tracked
        return "origin" if "origin" in remotes else None

    def rev_parse(self, ref: str) -> str:
        """The commit ``ref`` names (branch, tag, commit id, ``HEAD~2`` …); else :class:`NotFound`."""
        out = self._git(
            "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}", check=False
        )
        if not out or not out.strip():
            hint = "; this clone is shallow, fetch the ref first" if self.is_shallow() else ""
            raise NotFound(f"unknown git ref {ref!r}: no commit, branch or tag of that name{hint}")
        return out.strip()

    def changed_files(self, base: str, head: str, folder: str) -> list[FileChange]:
        """Files under ``folder`` that differ from commit ``base`` to ``head``.

        A rename is a file moved with its content unchanged: prompt files are small and
        share their keys, so git's usual 50 % similarity would pair unrelated prompts.
        """
        out = self._git(
            "diff-tree", "-r", "-M100%", "-z", "--no-commit-id", base, head,
            "--", f":(literal){folder}",
        ) or ""
        fields = iter(out.split("\0"))
        found = []
        for meta in fields:  # -z: ":modes blobs status" NUL path NUL [new path NUL]
            if not meta.startswith(":"):
                continue
            _, _, old_blob, blob, status = meta[1:].split()
            old_path = next(fields)
            path = next(fields) if status[0] in "RC" else old_path
            found.append(FileChange(
                status[0], old_path, path,
                None if old_blob == ZERO_OID else old_blob, None if blob == ZERO_OID else blob,
            ))
        return found

    # -- writes ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def write_lock(self) -> Iterator[None]:
        """Serialize promptctl writers on this repository (other writers are caught by CAS)."""
        with open(self.common_dir / _LOCK_NAME, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def staged_blob(self, path: str) -> str | None:
        """The blob the user's index holds for ``path`` (``None``: not in the index).

        A path in a merge conflict gives ``"conflict"``. Much cheaper than ``status``,
        which stats the whole working tree.
        """
        out = (self._git("ls-files", "--stage", "--", path) or "").splitlines()
        if not out:
            return None
        return out[0].split()[1] if len(out) == 1 else "conflict"

    def write_object(self, kind: str, data: bytes) -> str:
        """Store an object (``blob``, ``tree``, ``tag``) and return its id (see ``gitobjects``)."""
        from . import gitobjects

        if not gitobjects.sha1_repository(self.common_dir):
            raise GitError("write", "SHA-256 repositories are not supported for writing yet")
        return gitobjects.write_object(self.common_dir / "objects", kind, data)

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
        env = _identity_env(author)
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

    # -- append-only logs: a ref holding a chain of empty-tree commits, one per record ----

    def append_record(
        self,
        log_ref: str,
        message: str,
        *,
        author: tuple[str, str] | None = None,
        also: Sequence[RefUpdate] = (),
        reason: str = "promptctl: record",
    ) -> str:
        """Append a commit holding ``message`` to the chain at ``log_ref``; return it.

        The commit has the empty tree (it costs one small object) and the current tip as
        parent; its author and date say who and when. ``also`` holds ref changes
        ``(refname, new, old)`` (``new`` ``None``: delete, ``old`` ``None``: must not exist)
        applied in the same ``update-ref --stdin`` transaction, so they and the record land
        together or not at all. If only ``log_ref`` moved meanwhile (another appender), the
        commit is rebuilt on the new tip and tried again; if a ref of ``also`` moved, that
        is a :class:`Conflict`.
        """
        env = _identity_env(author)
        tree = self._empty_tree()
        for attempt in range(_APPEND_ATTEMPTS):
            tip = self.resolve(log_ref)
            parents = ["-p", tip] if tip else []
            out = self._git("commit-tree", tree, *parents, "-m", message, env=env)
            commit = (out or "").strip()
            try:
                self.update_refs([*also, (log_ref, commit, tip)], reason)
                return commit
            except GitError as exc:
                for refname, _new, old in also:
                    if self.resolve(refname) != old:
                        raise Conflict(
                            f"{refname} was changed by someone else meanwhile; try again"
                        ) from exc
                if "cannot lock ref" not in exc.detail:
                    raise
                import random

                time.sleep(random.uniform(0, 0.01 * (attempt + 1)))  # let the other finish
        raise Conflict(f"{log_ref} kept moving under us; try again")

    def merge_records(
        self, log_ref: str, other: str, *, author: tuple[str, str] | None = None
    ) -> str:
        """Fold the chain at ``other`` (e.g. a fetched remote log) into ``log_ref``.

        Returns ``"up to date"`` (nothing new), ``"fast-forward"`` (ours had nothing
        theirs lacks) or ``"merged"``: both chains diverged, so a merge commit (empty
        tree, parents ours then theirs) now joins them. Nothing is ever dropped.
        """
        found = self._git("rev-parse", "--verify", "--quiet", f"{other}^{{commit}}", check=False)
        if not found or not found.strip():
            raise NotFound(f"no alias log at {other!r}: fetch it first")
        theirs = found.strip()
        env = _identity_env(author)
        for _ in range(_APPEND_ATTEMPTS):
            ours = self.resolve(log_ref)
            if ours == theirs or (ours and self.is_ancestor(theirs, ours)):
                return "up to date"
            if ours is None or self.is_ancestor(ours, theirs):
                new, outcome = theirs, "fast-forward"
            else:
                new = (self._git(
                    "commit-tree", self._empty_tree(), "-p", ours, "-p", theirs,
                    "-m", f"Merge alias log {other}", env=env,
                ) or "").strip()
                outcome = "merged"
            try:
                self.update_refs([(log_ref, new, ours)], f"promptctl: merge {other}")
                return outcome
            except GitError as exc:
                if "cannot lock ref" not in exc.detail:
                    raise
        raise Conflict(f"{log_ref} kept moving under us; try again")

    def read_records(self, log_ref: str) -> list[LogEntry]:
        """Every commit of the chain at ``log_ref``, merges included, oldest first.

        Ordered by author date, then commit id, and never a commit before its parents:
        the same order in every clone, whichever way round two chains were merged.
        """
        if self.resolve(log_ref) is None:
            return []
        out = self._git("log", "--format=%x1e%H%x1f%P%x1f%an%x1f%ae%x1f%at%x1f%B%x1f", log_ref)
        entries = [_parse_log_record(r.encode()) for r in (out or "").split("\x1e") if r.strip()]
        return _oldest_first(entries)

    def is_ancestor(self, older: str, newer: str) -> bool:
        """True when commit ``older`` is reachable from ``newer``."""
        return self._git("merge-base", "--is-ancestor", older, newer, check=False) is not None

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

    def _empty_tree(self) -> str:
        # Written, not assumed: a commit must not name a tree the repository lacks, or
        # push and fsck complain.
        return self.write_object("tree", b"")

    def create_tag(
        self, name: str, commit: str, message: str, *, author: tuple[str, str] | None = None
    ) -> str:
        """Write an annotated tag object for ``commit`` (no ref yet) and return its id."""
        info = _identity_env(author)
        tagger = (self._git("var", "GIT_COMMITTER_IDENT", env=info) or "").strip()
        body = f"object {commit}\ntype commit\ntag {name}\ntagger {tagger}\n\n{message.rstrip()}\n"
        return self.write_object("tag", body.encode())

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

    # -- remotes: clone, fetch, push (never waiting for a password: GIT_TERMINAL_PROMPT=0) --

    @classmethod
    def clone_bare(cls, url: str, dest: Path, refspecs: Sequence[str]) -> GitRepo:
        """Clone ``url`` bare into ``dest`` (absent), fetching ``refspecs`` from then on.

        Partial (``--filter=blob:none``: blobs come when read) where the server allows
        it; git itself falls back to a full clone where it does not.
        """
        import shutil

        detail = ""
        for extra in (["--filter=blob:none"], []):
            result = _run_network(["git", "clone", "--bare", "--quiet", *extra, "--", url,
                                   str(dest)])
            if result.returncode == 0:
                break
            detail = _first_error(result.stderr)
            shutil.rmtree(dest, ignore_errors=True)
            if "filter" not in detail:
                raise RemoteUnreachable(url, detail)
        else:
            raise RemoteUnreachable(url, detail)
        repo = cls.open_bare(dest)
        for spec in refspecs:
            repo._git("config", "--add", "remote.origin.fetch", spec)
        return repo

    def remote_url(self, remote: str) -> str | None:
        """The URL of ``remote``, or ``None`` when there is no such remote."""
        out = self._git("config", "--get", f"remote.{remote}.url", check=False)
        return out.strip() or None if out else None

    def fetch(self, remote: str, refspecs: Sequence[str] = (), *, prune: bool = False) -> None:
        """Fetch ``refspecs`` (default: the configured ones); :class:`RemoteUnreachable` on failure."""
        args = ["git", "fetch", "--quiet", "--no-tags", "--no-write-fetch-head",
                *(["--prune"] if prune else []), remote, *refspecs]
        result = _run_network(args, cwd=self.root)
        if result.returncode:
            raise RemoteUnreachable(remote, _first_error(result.stderr))

    def push(
        self, remote: str, refspecs: Sequence[str], *, leases: Sequence[tuple[str, str | None]] = ()
    ) -> dict[str, str]:
        """Push ``refspecs`` all or nothing (``--atomic``); return each refused ref and why.

        A lease ``(ref, value)`` lets ``ref`` be overwritten only if the remote still has
        ``value`` there (``None``: no such ref), else it is refused as ``stale info``.
        An empty result means everything landed; :class:`RemoteUnreachable` when the
        remote could not be asked at all.
        """
        args = ["git", "push", "--porcelain", "--atomic",
                *[f"--force-with-lease={ref}:{value or ''}" for ref, value in leases],
                remote, *refspecs]
        result = _run_network(args, cwd=self.root)
        refused = {}
        for line in result.stdout.splitlines():
            flag, _, rest = line.partition("\t")
            if flag == "!":
                spec, _, why = rest.partition("\t")
                refused[spec.rpartition(":")[2]] = why
        if result.returncode and not refused:
            raise RemoteUnreachable(remote, _first_error(result.stderr))
        return refused

    def ls_remote(self, remote: str, refname: str) -> str | None:
        """What ``refname`` points at on ``remote`` now (``None``: no such ref there)."""
        result = _run_network(["git", "ls-remote", remote, refname], cwd=self.root)
        if result.returncode:
            raise RemoteUnreachable(remote, _first_error(result.stderr))
        for line in result.stdout.splitlines():
            oid, _, name = line.partition("\t")
            if name == refname:
                return oid
        return None

    def prefetch_blobs(self, commit: str, folder: str) -> None:
        """In a partial clone, download in one go the blobs under ``folder`` at ``commit``.

        Otherwise each would be fetched on its own when first read (a round trip per
        prompt). Best effort: what fails here is fetched when read.
        """
        if (self._git("config", "--get", "remote.origin.promisor", check=False) or "").strip() != "true":
            return
        listing = self._git("rev-list", "--objects", "--no-walk", "--missing=print", commit,
                            check=False) or ""
        missing = {line[1:] for line in listing.splitlines() if line.startswith("?")}
        entries = (self._git("ls-tree", "-r", commit, "--", folder, check=False) or "").splitlines()
        wanted = [f[2] for f in (e.split() for e in entries) if len(f) > 2 and f[2] in missing]
        if wanted:
            _run_network(["git", "-c", "fetch.negotiationAlgorithm=noop", "fetch", "--quiet",
                          "--no-tags", "--no-write-fetch-head", "--recurse-submodules=no",
                          "--filter=blob:none", "--stdin", "origin"],
                         cwd=self.root, input="\n".join(wanted) + "\n")

    def tree_entry(self, commit: str | None, path: str) -> str | None:
        """The id of what ``path`` names in ``commit``, read from trees (downloads no blob)."""
        if commit is None:
            return None
        fields = (self._git("ls-tree", "--full-tree", commit, "--", path, check=False) or "").split()
        return fields[2] if len(fields) > 2 else None

    def make_record(self, parent: str | None, message: str, *,
                    author: tuple[str, str] | None = None) -> str:
        """A record commit (empty tree) on ``parent``, on no ref yet (see ``append_record``)."""
        parents = ["-p", parent] if parent else []
        out = self._git("commit-tree", self._empty_tree(), *parents, "-m", message,
                        env=_identity_env(author))
        return (out or "").strip()

    def update_worktree(self, old: str, new: str) -> None:
        """Carry the user's index and files from commit ``old`` to ``new``, as a checkout would.

        ``read-tree -m -u`` touches only the paths that differ and refuses (a
        :class:`Conflict`, nothing changed) when one of them has local edits.
        """
        try:
            self._git("read-tree", "-m", "-u", old, new)
        except GitError as exc:
            raise Conflict(f"cannot update your working tree: {exc.detail}") from exc

    # -- the command layer ----------------------------------------------------------------

    def _git(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        input: str | None = None,
        check: bool = True,
    ) -> str | None:
        import tempfile

        from git.exc import GitCommandError

        cmd = self._git_cmd()
        try:
            if input is None:
                return str(cmd.execute(["git", *args], env=env, strip_newline_in_stdout=False))
            with tempfile.TemporaryFile() as stdin:
                stdin.write(input.encode())
                stdin.seek(0)
                return str(
                    cmd.execute(
                        ["git", *args], env=env, istream=stdin, strip_newline_in_stdout=False
                    )
                )
        except GitCommandError as exc:
            if not check:
                return None
            raise _translate(args[0], _stderr(exc)) from exc

    @contextlib.contextmanager
    def _stream(self, args: list[str]) -> Iterator[IO[bytes]]:
        from git.exc import GitCommandError

        proc = self._git_cmd().execute(["git", *args], as_process=True)
        try:
            yield proc.stdout
            proc.wait()
        except GitCommandError as exc:
            command = args[args.index("log")] if "log" in args else args[0]
            raise _translate(command, _stderr(exc)) from exc
        finally:
            proc.stdout.close()

    def _git_cmd(self) -> git.Git:
        if self._cmd is None:
            import git

            self._cmd = git.Git(self.root)
        return self._cmd


def _read_exact(stream: IO[bytes], size: int) -> bytes:
    data = stream.read(size)
    while len(data) < size:
        more = stream.read(size - len(data))
        if not more:
            raise GitError("cat-file", "unexpected end of output")
        data += more
    return data


def _oldest_first(entries: list[LogEntry]) -> list[LogEntry]:
    """Parents before children; among commits free to come next, earliest date, then id."""
    import heapq

    by_id = {e.commit: e for e in entries}
    waiting: dict[str, int] = {}
    children: dict[str, list[str]] = {}
    for entry in entries:
        parents = [p for p in entry.parents if p in by_id]
        waiting[entry.commit] = len(parents)
        for parent in parents:
            children.setdefault(parent, []).append(entry.commit)
    ready = [(e.timestamp, e.commit) for e in entries if not waiting[e.commit]]
    heapq.heapify(ready)
    ordered = []
    while ready:
        _, commit = heapq.heappop(ready)
        ordered.append(by_id[commit])
        for child in children.get(commit, ()):
            waiting[child] -= 1
            if not waiting[child]:
                heapq.heappush(ready, (by_id[child].timestamp, child))
    return ordered


def _parse_log_record(record: bytes) -> LogEntry:
    fields = record.decode("utf-8", "replace").split("\x1f", 6)
    commit, parents, author, email, stamp, message, raw = fields
    changes = []
    for line in raw.splitlines():
        if line.startswith(":"):
            meta, _, path = line.partition("\t")
            parts = meta.split()
            changes.append((parts[4][0], path, parts[3]))
    return LogEntry(
        commit, tuple(parents.split()), author, email, int(stamp or 0), message.strip(),
        tuple(changes),
    )


def _identity_env(author: tuple[str, str] | None) -> dict[str, str]:
    env = dict(os.environ)
    if author:
        name, email = author
        env.update(
            GIT_AUTHOR_NAME=name, GIT_AUTHOR_EMAIL=email,
            GIT_COMMITTER_NAME=name, GIT_COMMITTER_EMAIL=email,
        )
    return env


def _stderr(exc: Any) -> str:
    text = exc.stderr if isinstance(exc.stderr, str) else str(exc.stderr or "")
    return text.strip().removeprefix("stderr:").strip().strip("'").strip()


def _translate(command: str, stderr: str) -> GitError | InvalidInput:
    """Turn git's stderr into one of our errors: the only place git's words are read."""
    if "Author identity unknown" in stderr or "Committer identity unknown" in stderr or (
        "empty ident name" in stderr
    ):
        return IdentityMissing()
    lines = [line for line in stderr.splitlines() if line.strip()]
    detail = next((ln for ln in lines if ln.startswith(("fatal:", "error:"))), lines[-1] if lines else "")
    return GitError(command, detail.removeprefix("fatal: ").removeprefix("error: "))


class IdentityMissing(InvalidInput):
    """Git has no user name or email to write commits with."""

    def __init__(self) -> None:
        super().__init__(
            "git does not know who you are: run 'git config --global user.name \"Your Name\"' "
            "and 'git config --global user.email you@example.com', or pass --author 'Name <email>'"
        )


def _run_network(
    argv: list[str], *, cwd: Path | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a git command that talks to a remote: it fails rather than wait for a password."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    return subprocess.run(argv, cwd=cwd, env=env, input=input, capture_output=True, text=True,
                          check=False)


def _first_error(stderr: str) -> str:
    """Git's own words for what failed: its first ``fatal:``/``error:`` line."""
    error = _translate("", stderr)
    return error.detail if isinstance(error, GitError) else str(error)


def _run_plain(
    argv: list[str],
    command: str,
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    input: str | None = None,
) -> str:
    result = subprocess.run(
        argv, cwd=cwd, env=env, input=input, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise _translate(command, result.stderr)
    return result.stdout
