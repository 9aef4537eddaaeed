"""Reading a repository from its files: HEAD, refs and objects, the hot path of ``load``.

HEAD and refs are read from the ref files themselves (loose, then ``packed-refs``, found
by one ``find`` in the sorted file), objects through one long-lived ``git cat-file
--batch`` process. Nothing here imports GitPython (~50 ms), which a load never needs.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from .errors import GitError

if TYPE_CHECKING:
    from typing_extensions import Self

ZERO_OID = "0" * 40  # what git writes for "no object"

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


class GitFiles:
    """A repository (or a worktree of one) found on disk, read without running git commands."""

    def __init__(self, root: Path, git_dir: Path, common_dir: Path) -> None:
        self.root = root
        self.git_dir = git_dir
        self.common_dir = common_dir
        self._catfile: subprocess.Popen[bytes] | None = None
        self._packed_cache: tuple[tuple[int, int, int], str] | None = None
        self._packed_blocks: dict[str, dict[str, Ref]] = {}

    # -- finding repositories ------------------------------------------------------------

    @classmethod
    def find(cls, start: Path) -> Self | None:
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
    def _at(cls, root: Path, git_dir: Path) -> Self:
        common = git_dir
        commondir_file = git_dir / "commondir"
        if commondir_file.is_file():
            common = (git_dir / commondir_file.read_text().strip()).resolve()
        return cls(root, git_dir, common)

    @classmethod
    def open_bare(cls, path: Path) -> Self:
        """A bare repository (promptctl's own clone of a remote registry): no working tree."""
        return cls(path, path, path)

    @property
    def bare(self) -> bool:
        """True for a repository without a working tree."""
        return self.root == self.git_dir

    def close(self) -> None:
        """Stop the cat-file process; the object stays usable and restarts it on demand."""
        if self._catfile is not None:
            with contextlib.suppress(OSError):
                assert self._catfile.stdin is not None
                self._catfile.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._catfile.wait(timeout=2)
            if self._catfile.poll() is None:
                self._catfile.kill()
            self._catfile = None

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
        A block once parsed is kept until the file changes (a search reads all 20,000
        aliases of a large registry each time). Returns a copy the caller may extend.
        """
        text = self._packed_text()
        cached = self._packed_blocks.get(prefix)
        if cached is None:
            if len(self._packed_blocks) >= 4096:
                self._packed_blocks.clear()
            cached = self._packed_blocks[prefix] = self._parse_packed(text, prefix)
        return dict(cached)

    @staticmethod
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
            self._packed_cache = (stamp, path.read_text())
            self._packed_blocks.clear()
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


def _read_exact(stream: IO[bytes], size: int) -> bytes:
    data = stream.read(size)
    while len(data) < size:
        more = stream.read(size - len(data))
        if not more:
            raise GitError("cat-file", "unexpected end of output")
        data += more
    return data


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
