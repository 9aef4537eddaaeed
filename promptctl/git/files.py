"""``.git``'s own files, read with nothing but ``os``: where a repository is, HEAD, a ref.

The rest of the Git layer builds on these (``Repo.find``, :class:`~.refs.Refs`), and so
does the cold ``promptctl load`` (``promptctl.coldload``), which must answer before a
heavier module would have finished importing: nothing here may import more than ``os``.
Paths are plain strings for the same reason (``pathlib`` costs a cold load ~2 ms).
"""

from __future__ import annotations

import os


def find_repository(start: str) -> tuple[str, str, str] | None:
    """``(work tree root, git dir, common dir)`` of the repository containing the folder
    ``start`` (an absolute path), or ``None``.

    A ``.git`` file (a linked worktree, a submodule) names the git dir; a ``commondir``
    file there names the common dir, which holds the refs and objects.
    """
    folder = start
    while True:
        dot_git = os.path.join(folder, ".git")
        if os.path.isdir(dot_git):
            return folder, dot_git, _common_dir(dot_git)
        if os.path.isfile(dot_git):
            text = _read_text(dot_git) or ""
            if text.startswith("gitdir:"):
                git_dir = os.path.realpath(os.path.join(folder, text[7:].strip()))
                return folder, git_dir, _common_dir(git_dir)
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def head(git_dir: str) -> tuple[str | None, str | None]:
    """HEAD as ``(branch ref, None)``, or ``(None, commit)`` when detached (``(None,
    None)``: no HEAD file)."""
    text = _read_text(os.path.join(git_dir, "HEAD")) or ""
    if text.startswith("ref:"):
        return text[4:].strip(), None
    return None, text or None


def read_loose(common_dir: str, refname: str) -> str | None:
    """What the loose ref file ``refname`` holds (an object id, or ``ref: <name>`` for a
    symbolic ref), or ``None`` when there is no such file."""
    try:
        with open(f"{common_dir}/{refname}", "rb") as handle:
            return handle.read(4096).decode("utf-8", "replace").strip() or None
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


def packed_target(text: str, refname: str) -> str | None:
    """The object id ``packed-refs`` (its ``text``) gives ``refname``, or ``None``."""
    needle = f" {refname}\n"
    at = text.find(needle)
    while at >= 0:
        target = text[text.rfind("\n", 0, at) + 1:at]
        if " " not in target and not target.startswith(("#", "^")):  # not a comment
            return target
        at = text.find(needle, at + 1)
    return None


def resolve(common_dir: str, refname: str, depth: int = 0) -> str | None:
    """The object id ``refname`` points to (symbolic refs followed), or ``None``."""
    loose = read_loose(common_dir, refname)
    if loose is None:
        text = _read_text(os.path.join(common_dir, "packed-refs"), strip=False)
        return packed_target(text, refname) if text else None
    if loose.startswith("ref:"):
        return resolve(common_dir, loose[4:].strip(), depth + 1) if depth < 5 else None
    return loose


def _common_dir(git_dir: str) -> str:
    named = _read_text(os.path.join(git_dir, "commondir"))
    return os.path.realpath(os.path.join(git_dir, named)) if named else git_dir


def _read_text(path: str, *, strip: bool = True) -> str | None:
    try:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8", "replace")
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    return text.strip() if strip else text
