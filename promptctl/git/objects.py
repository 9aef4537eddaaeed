"""Objects: read through one long-lived ``git cat-file --batch``, written as loose objects.

Reading: a load reads a blob or two, a commit, a tag; one batch process answers each in
microseconds once started, where a process per object would cost milliseconds.

Writing: a register writes one blob and the trees above it; each git process costs 1-3
ms, so they are written here, in git's own small and frozen format: ``<type>
<size>\\0<content>``, SHA-1 named, zlib deflated, stored at ``objects/xx/yyyy…``, each
made under a temporary name and renamed into place, so a reader sees the whole object
or none. Repositories using SHA-256 are refused for writing (:meth:`Objects.write`).
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import zlib
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import IO

from ..errors import GitError
from . import digest

TREE_MODE = b"40000"
BLOB_MODE = b"100644"
EXEC_MODE = b"100755"

_RECENT_BYTES = 4 << 20
_STORED_TREE_BYTES = 16 << 10  # larger trees are written without deflating (see write)
_IMMUTABLE = re.compile(r"[0-9a-f]{40}(:|$)")  # an object id, or a path in one

TreeEntry = tuple[bytes, bytes, bytes]
"""``(mode, name, 20-byte id)`` as a tree object stores them."""


class Objects:
    """The object store of one repository."""

    def __init__(self, root: Path, common_dir: Path) -> None:
        self._root = root
        self._common_dir = common_dir
        self._catfile: subprocess.Popen[bytes] | None = None
        self._peeled: dict[str, str] = {}  # objects never change: nor does where they lead
        # Objects this process wrote or read lately, by id or by "<id>:<path>" (a path in
        # a named commit never changes either): a register reads its parent commit and
        # trees (380 KB for a 10,000-prompt folder) back, and the new version's file
        # twice more. Objects never change, so memory answers. Bounded in bytes.
        self._recent: OrderedDict[str, tuple[str, str, bytes]] = OrderedDict()
        self._recent_bytes = 0
        self._sha1: tuple[tuple[int, int, int] | None, bool] | None = None

    def close(self) -> None:
        """Stop the cat-file process; the object stays usable and restarts it on demand."""
        self._recent.clear()
        self._recent_bytes = 0
        if self._catfile is not None:
            with contextlib.suppress(OSError):
                assert self._catfile.stdin is not None
                self._catfile.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._catfile.wait(timeout=2)
            if self._catfile.poll() is None:
                self._catfile.kill()
                self._catfile.wait()
            if self._catfile.stdout is not None:
                self._catfile.stdout.close()
            self._catfile = None

    # -- reading ---------------------------------------------------------------------------

    def read(self, spec: str) -> tuple[str, bytes] | None:
        """``(type, content)`` of the object ``spec`` names (``rev:path`` works), or ``None``."""
        found = self.read_with_id(spec)
        return (found[1], found[2]) if found else None

    def read_with_id(self, spec: str) -> tuple[str, str, bytes] | None:
        """``(id, type, content)`` of the object ``spec`` names, or ``None``."""
        if "\n" in spec:
            return None  # one spec per line: a newline would desynchronize the batch
        recent = self._recent.get(spec)
        if recent is not None:
            self._recent.move_to_end(spec)
            return recent
        proc = self._catfile
        if proc is None or proc.poll() is not None:
            proc = self._catfile = subprocess.Popen(
                # A small delta cache: git's 96 MB default made this one process the
                # largest of a first index build, for no speed a load notices.
                ["git", "-c", "core.deltaBaseCacheLimit=8m", "cat-file", "--batch"],
                cwd=self._root,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            )
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(spec.encode("utf-8", "surrogateescape") + b"\n")
            proc.stdin.flush()
            header = proc.stdout.readline().split()
            if len(header) != 3:  # "<spec> missing" or "<spec> ambiguous"
                return None
            data = _read_exact(proc.stdout, int(header[2]) + 1)[:-1]
        except (OSError, ValueError) as exc:
            self.close()
            raise GitError("cat-file", f"reading {spec} failed: {exc}") from exc
        found = header[0].decode(), header[1].decode(), data
        if _IMMUTABLE.match(spec):
            self._remember(spec, found)
        return found

    def read_blob(self, commit: str, path: str) -> bytes | None:
        """The content of ``path`` at ``commit``, or ``None`` when it is not there."""
        found = self.read(f"{commit}:{path}")
        return found[1] if found and found[0] == "blob" else None

    def entry_id(self, commit: str, path: str) -> str | None:
        """The id of what ``path`` names at ``commit`` (blob or tree), or ``None``."""
        found = self.read_with_id(f"{commit}:{path}")
        return found[0] if found else None

    def commit_tree(self, commit: str) -> str | None:
        """The root tree id of ``commit``."""
        found = self.read(commit)
        if found is None or found[0] != "commit":
            return None
        return found[1][5:45].decode()  # a commit starts with "tree <id>"

    def file_id(self, commit: str, path: str) -> str | None:
        """The blob id of file ``path`` in ``commit``, found by reading its trees here,
        or ``None`` (no such file, or a tree this lookup leaves to git). A register reads
        those trees anyway, to write the next ones, and keeps them: the second lookup of
        the branch tip costs no round trip, where ``<commit>:<path>`` makes git walk the
        trees again."""
        tree = self.commit_tree(commit)
        *folders, leaf = path.split("/")
        for folder in folders:
            data = self._read_tree(tree) if tree else None
            at = _find_entry(data, folder.encode(), TREE_MODE) if data is not None else None
            if data is None or at is None:
                return None
            tree = data[at:at + 20].hex()
        data = self._read_tree(tree) if tree else None
        for mode in (BLOB_MODE, EXEC_MODE):
            at = _find_entry(data, leaf.encode(), mode) if data is not None else None
            if data is not None and at is not None:
                return data[at:at + 20].hex()
        return None

    def commit_time(self, commit: str) -> int | None:
        """The committer date of ``commit`` (seconds since the epoch)."""
        found = self.read(commit)
        if found is None or found[0] != "commit":
            return None
        for line in found[1].split(b"\n\n", 1)[0].split(b"\n"):
            if line.startswith(b"committer "):
                with contextlib.suppress(ValueError, IndexError):
                    return int(line.rsplit(b" ", 2)[1])
        return None

    def peel(self, target: str) -> str | None:
        """The commit ``target`` finally names, following annotated tags (``None``: no commit)."""
        found = self._peeled.get(target)
        if found is None:
            found = self._peel(target)
            if found is not None:  # a missing object may yet arrive (a partial clone)
                if len(self._peeled) >= 65536:
                    self._peeled.clear()
                self._peeled[target] = found
        return found

    def _peel(self, target: str) -> str | None:
        for _ in range(10):  # tags of tags are legal; loops are not
            found = self.read(target)
            if found is None:
                return None
            kind, data = found
            if kind != "tag":
                return target if kind == "commit" else None
            fields = data.split(b"\n", 1)[0].split()
            if len(fields) != 2 or fields[0] != b"object":
                return None
            target = fields[1].decode("ascii", "replace")
        return None

    # -- writing ---------------------------------------------------------------------------

    def write(self, kind: str, data: bytes) -> str:
        """Store ``data`` as a loose object of ``kind`` (unless present) and return its id."""
        if not self.sha1():
            raise GitError("write", "SHA-256 repositories are not supported for writing yet")
        raw = f"{kind} {len(data)}\0".encode() + data
        oid = _object_id(raw)
        self._remember(oid, (oid, kind, data))
        folder = f"{self._common_dir}/objects/{oid[:2]}"
        target = f"{folder}/{oid[2:]}"
        if os.path.exists(target):
            return oid
        temp = f"{folder}/tmp_obj_promptctl_{os.getpid()}_{oid[2:8]}"
        # git's own core.looseCompression default (1), except for large trees: a folder of
        # prompts is a tree of 20-byte ids, which deflate hardly shrinks (10,000 prompts:
        # 380 KB to 250 KB, for ~5 ms of a register). Those are stored as git stores them
        # under core.looseCompression=0, until gc packs them, compressed and deltified.
        level = 0 if kind == "tree" and len(raw) > _STORED_TREE_BYTES else 1
        try:
            fd = _create(temp, folder)
            try:
                _write_all(fd, zlib.compress(raw, level))
            finally:
                os.close(fd)
            os.replace(temp, target)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            self._recent.pop(oid, None)
            raise GitError("write", f"cannot store an object: {exc.strerror or exc}") from exc
        return oid

    def remember_path(self, commit: str, path: str, blob: str) -> None:
        """Note that ``commit`` (just made) holds ``blob`` at ``path``, so that reading
        ``<commit>:<path>`` back is answered from memory when the blob is there."""
        found = self._recent.get(blob)
        if found is not None:
            self._remember(f"{commit}:{path}", found)

    def _remember(self, spec: str, found: tuple[str, str, bytes]) -> None:
        if spec in self._recent or len(found[2]) > _RECENT_BYTES // 4:
            return
        self._recent[spec] = found
        self._recent_bytes += len(found[2])
        while self._recent_bytes > _RECENT_BYTES:
            _, (_, _, dropped) = self._recent.popitem(last=False)
            self._recent_bytes -= len(dropped)

    def empty_tree(self) -> str:
        """The id of the empty tree, written: a commit must not name a tree the repo lacks."""
        return self.write("tree", b"")

    def tree_with_file(self, tree: str | None, path: str, blob: str) -> str:
        """The id of ``tree`` with ``path`` set to ``blob`` (folders made as needed)."""
        return tree_with_file(self._read_tree, lambda data: self.write("tree", data),
                              tree, path, blob)

    def sha1(self) -> bool:
        """True unless the repository's config asks for SHA-256 object names."""
        path = self._common_dir / "config"
        try:
            st = path.stat()
            stamp: tuple[int, int, int] | None = (st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError:
            stamp = None
        if self._sha1 is not None and self._sha1[0] == stamp:
            return self._sha1[1]
        try:
            config = path.read_text(errors="replace")
        except OSError:
            return True
        found = "objectformat=sha256" not in config.lower().replace(" ", "")
        self._sha1 = (stamp, found)
        return found

    def _read_tree(self, oid: str) -> bytes | None:
        found = self.read(oid)
        return found[1] if found and found[0] == "tree" else None


def _create(temp: str, folder: str) -> int:
    """Open a new read-only ``temp`` file in ``folder`` (made if missing), as git makes its
    temporary object files: mode 0444 from the start, no ``chmod`` after."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(3):
        try:
            return os.open(temp, flags, 0o444)
        except FileNotFoundError:
            with contextlib.suppress(FileExistsError):
                os.mkdir(folder)
        except FileExistsError:
            os.unlink(temp)  # left by a killed process of the same id: never renamed
    return os.open(temp, flags, 0o444)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def blob_id(data: bytes) -> str:
    """The id git gives a blob of ``data``, computed, not stored."""
    return _object_id(f"blob {len(data)}\0".encode() + data)


def _object_id(raw: bytes) -> str:
    """The SHA-1 git names an object's bytes by."""
    return digest.sha1(raw).hex()


def parse_tree(data: bytes) -> list[TreeEntry]:
    """The entries of a tree object's content."""
    entries = []
    pos = 0
    while pos < len(data):
        space = data.index(b" ", pos)
        nul = data.index(b"\0", space)
        entries.append((data[pos:space], data[space + 1:nul], data[nul + 1:nul + 21]))
        pos = nul + 21
    return entries


def serialize_tree(entries: list[TreeEntry]) -> bytes:
    """A tree object's content, entries in git's order (a folder sorts as ``name/``)."""
    ordered = sorted(entries, key=lambda e: e[1] + b"/" if e[0] == TREE_MODE else e[1])
    return b"".join(mode + b" " + name + b"\0" + oid for mode, name, oid in ordered)


def tree_with_file(
    read_tree: Callable[[str], bytes | None],
    write_tree: Callable[[bytes], str],
    tree: str | None,
    path: str,
    blob: str,
) -> str:
    """The id of ``tree`` with ``path`` set to ``blob`` (folders made as needed).

    ``read_tree`` returns a tree's content by id, ``write_tree`` stores one and returns
    its id; ``tree`` ``None`` starts from an empty tree.
    """
    head, _, rest = path.partition("/")
    data = (read_tree(tree) or b"") if tree else b""
    name = head.encode()
    mode = TREE_MODE if rest else BLOB_MODE
    found = _find_entry(data, name, mode)
    if found is None and not rest and _find_entry(data, name, EXEC_MODE) is not None:
        mode = EXEC_MODE  # an executable prompt file stays executable (chmod +x is theirs)
        found = _find_entry(data, name, mode)
    if rest:
        below = data[found:found + 20].hex() if found is not None else None
        oid = bytes.fromhex(tree_with_file(read_tree, write_tree, below, rest, blob))
    else:
        oid = bytes.fromhex(blob)
    if found is not None:
        # The common case, a new version of an existing file: swap the 20-byte id in
        # place. Parsing and re-sorting a 10,000-entry folder cost ~5 ms a register.
        return write_tree(data[:found] + oid + data[found + 20:])
    kept = [e for e in parse_tree(data) if e[1] != name]
    return write_tree(serialize_tree([*kept, (mode, name, oid)]))


def _find_entry(data: bytes, name: bytes, mode: bytes) -> int | None:
    """Where the id of entry ``name`` (with ``mode``) starts in a tree's content, or ``None``.

    Found by its ``<mode> <name>\\0`` bytes; an entry with another mode (a folder where a
    file is wanted) is not a match, and the caller rebuilds the tree.
    """
    key = mode + b" " + name + b"\0"
    # Entries are "<mode> <name>\0<20-byte id>" and names hold no NUL, so a match is a
    # real entry unless it is the tail of a longer name with a space ("x 100644 name"):
    # then the byte before is a space, and we answer "not found" to take the slow,
    # exact path (so does a real entry whose previous id happens to end in 0x20).
    at = data.find(key)
    if at < 0 or (at > 0 and data[at - 1] == 0x20):
        return None
    return at + len(key)


def _read_exact(stream: IO[bytes], size: int) -> bytes:
    data = stream.read(size)
    while len(data) < size:
        more = stream.read(size - len(data))
        if not more:
            raise GitError("cat-file", "unexpected end of output")
        data += more
    return data
