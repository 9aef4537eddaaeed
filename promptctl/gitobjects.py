"""Git's object format, for the few objects a write makes: blobs, trees and tags.

Why not ask git? A register must stay under 15 ms and each git process costs 1-3 ms.
Building the new tree through a throwaway index took four processes (hash-object,
read-tree, update-index, write-tree); writing the loose objects here takes none. The
format is small and frozen: ``<type> <size>\\0<content>``, SHA-1 named, zlib deflated,
stored at ``objects/xx/yyyy…``. Repositories using SHA-256 are left to git (the caller
checks :func:`sha1_repository`).
"""

from __future__ import annotations

import hashlib
import os
import zlib
from collections.abc import Callable
from pathlib import Path

TREE_MODE = b"40000"
BLOB_MODE = b"100644"

TreeEntry = tuple[bytes, bytes, bytes]
"""``(mode, name, 20-byte id)`` as a tree object stores them."""


def sha1_repository(common_dir: Path) -> bool:
    """True unless the repository's config asks for SHA-256 object names."""
    try:
        config = (common_dir / "config").read_text().lower().replace(" ", "")
    except OSError:
        return True
    return "objectformat=sha256" not in config


def write_object(objects_dir: Path, kind: str, data: bytes) -> str:
    """Store ``data`` as a loose object of ``kind`` (unless present) and return its id."""
    raw = f"{kind} {len(data)}\0".encode() + data
    oid = hashlib.sha1(raw).hexdigest()
    folder = objects_dir / oid[:2]
    target = folder / oid[2:]
    if target.exists():
        return oid
    folder.mkdir(exist_ok=True)
    temp = folder / f"tmp_obj_promptctl_{os.getpid()}_{oid[2:8]}"
    temp.write_bytes(zlib.compress(raw, 1))  # git's own core.looseCompression default
    os.chmod(temp, 0o444)
    os.replace(temp, target)  # atomic: a reader sees the whole object or none
    return oid


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
