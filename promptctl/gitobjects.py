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
    temp.write_bytes(zlib.compress(raw))
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
    entries = parse_tree(read_tree(tree) or b"") if tree else []
    name = head.encode()
    current = next((e for e in entries if e[1] == name), None)
    if rest:
        below = current[2].hex() if current and current[0] == TREE_MODE else None
        new = (TREE_MODE, name, bytes.fromhex(tree_with_file(read_tree, write_tree, below, rest, blob)))
    else:
        new = (BLOB_MODE, name, bytes.fromhex(blob))
    kept = [e for e in entries if e[1] != name]
    return write_tree(serialize_tree([*kept, new]))
