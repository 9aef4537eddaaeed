"""Refs: read from the ref files themselves, and moved by compare-and-swap transactions.

:class:`Refs` reads HEAD, loose refs and ``packed-refs`` straight from the files, with no
process: a load reads a branch and an alias tag or two, and spawning git for that would
cost more than the whole rest of the load. :class:`RefUpdates` moves refs through
``git update-ref --stdin``, one all-or-nothing transaction whose every line names the
value the ref must still have, so nothing anyone else wrote meanwhile is overwritten.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import Conflict, PromptctlError
from .runner import Runner

ZERO_OID = "0" * 40  # what git writes for "no object"

RefUpdate = tuple[str, str | None, str | None]
"""A ref change: ``(refname, new or None to delete, old or None if it must be absent)``."""


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


class Refs:
    """The refs of one repository, read from its files (``git_dir`` for HEAD, ``common_dir``
    for the rest, so a linked worktree reads its own HEAD and the shared refs)."""

    def __init__(self, git_dir: Path, common_dir: Path) -> None:
        self.git_dir = git_dir
        self.common_dir = common_dir
        self._packed_cache: tuple[tuple[int, int, int], str] | None = None
        self._packed_blocks: dict[str, dict[str, Ref]] = {}

    def head(self) -> Head:
        """Read HEAD: the branch it is on (if any) and the commit (if any)."""
        text = (self.git_dir / "HEAD").read_text(errors="replace").strip()
        if text.startswith("ref:"):
            ref = text[4:].strip()
            return Head(ref, self.resolve(ref))
        return Head(None, text)

    def in_progress_operation(self) -> str | None:
        """The name of a merge, rebase, cherry-pick or revert under way, else ``None``."""
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

    def is_shallow(self) -> bool:
        """True for a shallow clone, whose history stops short."""
        return (self.common_dir / "shallow").exists()

    def resolve(self, refname: str) -> str | None:
        """The object id a ref points to (not peeled), or ``None`` if there is no such ref."""
        loose = self._read_loose(refname)
        if loose is not None:
            return loose
        packed = self._packed(refname).get(refname)
        return packed.target if packed else None

    def symbolic(self, refname: str) -> str | None:
        """The ref a symbolic ref such as ``refs/remotes/origin/HEAD`` names, or ``None``."""
        try:
            text = (self.common_dir / refname).read_text(errors="replace").strip()
        except OSError:
            return None
        return text[4:].strip() if text.startswith("ref:") else None

    def refs(self, prefix: str) -> dict[str, Ref]:
        """Every ref whose name starts with ``prefix``, loose ones overriding packed ones."""
        found = self._packed(prefix)
        folder, _, stem = prefix.rpartition("/")
        root = str(self.common_dir)
        # os.scandir on plain strings: a registry grown by promptctl has thousands of loose
        # tags in one folder, and a load lists that folder for one prompt's few.
        pending = [(f"{root}/{folder}", folder, stem)]
        while pending:
            path, rel, wanted = pending.pop()
            try:
                entries = list(os.scandir(path))
            except (FileNotFoundError, NotADirectoryError):
                continue
            for entry in entries:
                if not entry.name.startswith(wanted) or entry.name.endswith(".lock"):
                    continue
                name = f"{rel}/{entry.name}"
                if entry.is_dir(follow_symlinks=False):
                    pending.append((entry.path, name, ""))
                else:
                    target = self._read_loose(name)
                    if target is not None:
                        found[name] = Ref(name, target)
        return found

    def _read_loose(self, refname: str) -> str | None:
        try:
            with open(f"{self.common_dir}/{refname}", "rb") as handle:
                text = handle.read(4096).decode("utf-8", "replace").strip()
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
        A block once parsed is kept until the file changes (a search reads all 20,000
        aliases of a large registry each time). Returns a copy the caller may extend.
        """
        text = self._packed_text()
        cached = self._packed_blocks.get(prefix)
        if cached is None:
            if len(self._packed_blocks) >= 4096:
                self._packed_blocks.clear()
            cached = self._packed_blocks[prefix] = _parse_packed(text, prefix)
        return dict(cached)

    def _packed_text(self) -> str:
        # Read once per change of the file: the stat costs microseconds.
        path = self.common_dir / "packed-refs"
        try:
            st = path.stat()
        except FileNotFoundError:
            self._packed_cache = None
            self._packed_blocks.clear()
            return ""
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        if self._packed_cache is None or self._packed_cache[0] != stamp:
            # Ref names are bytes to git; a name that is not UTF-8 cannot be one of ours.
            self._packed_cache = (stamp, path.read_text(errors="replace"))
            self._packed_blocks.clear()
        return self._packed_cache[1]


class RefUpdates:
    """Moving refs: every change a compare-and-swap, several at once all or nothing."""

    def __init__(self, runner: Runner, refs: Refs) -> None:
        self._runner = runner
        self._refs = refs

    def apply(self, changes: Sequence[RefUpdate], reason: str) -> None:
        """Apply ``(refname, new, old)`` changes in one all-or-nothing transaction.

        Raises (nothing changed) :class:`Conflict` naming the first ref that is not where
        ``old`` says, :class:`RefLocked` when another writer holds a ref's lock file, or
        git's own error for anything else (a full disk, say).
        """
        lines = []
        for refname, new, old in changes:
            if new is None:
                lines.append(f"delete {refname} {old or ZERO_OID}")
            else:
                lines.append(f"update {refname} {new} {old or ZERO_OID}")
        try:
            self._runner.run("update-ref", "-m", reason, "--stdin",
                             input="\n".join(lines) + "\n")
        except PromptctlError:
            for refname, _new, old in changes:
                if self._refs.resolve(refname) != old:
                    raise Conflict(f"{refname} was changed by someone else meanwhile; "
                                   "try again") from None
            raise

    def move(self, refname: str, new: str, old: str | None, reason: str) -> None:
        """Point ``refname`` at ``new`` only if it still points at ``old`` (``None``: absent)."""
        self.apply([(refname, new, old)], reason)


def _parse_packed(text: str, prefix: str) -> dict[str, Ref]:
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
    for line in _lines_from(text, start):
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


def _lines_from(text: str, start: int) -> Iterator[str]:
    """The lines of ``text`` from offset ``start``, cut one at a time.

    Not ``text[start:].splitlines()``: that copies and splits the rest of a file of tens
    of thousands of refs on every lookup, when a lookup reads a handful of lines.
    """
    while start < len(text):
        end = text.find("\n", start)
        if end < 0:
            end = len(text)
        yield text[start:end]
        start = end + 1
