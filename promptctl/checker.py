"""``promptctl check``: validate prompt files on disk and report every problem at once.

The files are the working tree's, which anyone with push access shapes, so the check
reads them as hostile input: it never follows a symlink (Git stores a symlink as a link,
so promptctl could not read it as a prompt anyway, and following one out of the
repository would print another file's content in an error), reads only regular files
and at most :data:`~promptctl.formats.bounded.MAX_FILE_BYTES` of each, and reports a
``.yml`` file instead of skipping it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InvalidPromptFile
from .formats.bounded import MAX_FILE_BYTES, read_limited, size_problem
from .formats.promptfile import decode_prompt, find_problems, find_warnings, parse_prompt

PROMPT_SUFFIX = ".yaml"
_OTHER_YAML_SUFFIXES = (".yml",)


@dataclass(frozen=True)
class CheckWarning:
    """Something allowed but probably not meant (a near-variable); it does not fail a check."""

    source: str
    key: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.source}: {self.key}: " if self.key else f"{self.source}: "
        return where + self.message


@dataclass(frozen=True)
class CheckReport:
    """How many files were read, every problem found in them, and every warning."""

    files: int
    problems: tuple[InvalidPromptFile, ...]
    warnings: tuple[CheckWarning, ...] = ()

    @property
    def ok(self) -> bool:
        """True when no problem was found (warnings do not count)."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "files": self.files,
            "ok": self.ok,
            "problems": [
                {"file": p.source, "key": p.key, "problem": p.problem} for p in self.problems
            ],
            "warnings": [
                {"file": w.source, "key": w.key, "warning": w.message} for w in self.warnings
            ],
        }


def check_paths(paths: Iterable[Path], root: Path | None = None) -> CheckReport:
    """Check each file, and each prompt file under each folder, against the prompt schema.

    ``root`` is the registry's folder: a symlink pointing outside it is reported as such.
    Without it, the nearest folder above each path holding ``promptctl.yaml`` is used
    (else the path's own folder). Warnings (near-variables) do not make the report fail.
    """
    files = 0
    problems: list[InvalidPromptFile] = []
    warnings: list[CheckWarning] = []
    for path in paths:
        boundary = Path(os.path.realpath(root)) if root is not None else _registry_of(path)
        for target, problem in _targets(path, boundary):
            files += 1
            if problem is not None:
                problems.append(InvalidPromptFile(str(target), None, problem))
                continue
            found, notes = _check_file(target)
            problems.extend(found)
            warnings.extend(notes)
    return CheckReport(files, tuple(problems), tuple(warnings))


def _targets(path: Path, boundary: Path) -> Iterator[tuple[Path, str | None]]:
    """Each file to check under ``path``, or a problem that stops it from being read."""
    if path.is_symlink():
        yield path, _symlink_problem(path, boundary)
        return
    written = Path(os.path.abspath(path))
    if _inside(written, boundary) and not _inside(Path(os.path.realpath(path)), boundary):
        yield path, "is in a symlinked folder pointing outside the registry (not read)"
        return
    if not path.exists():
        yield path, "no such file or folder"
        return
    if not path.is_dir():
        yield path, _suffix_problem(path)
        return
    unreadable: list[OSError] = []
    for folder, dirs, names in os.walk(path, followlinks=False, onerror=unreadable.append):
        dirs.sort()
        here = Path(folder)
        for name in sorted(dirs):
            if (here / name).is_symlink():  # os.walk lists it but does not enter it
                yield here / name, _symlink_problem(here / name, boundary)
        for name in sorted(names):
            entry = here / name
            if not name.endswith((PROMPT_SUFFIX, *_OTHER_YAML_SUFFIXES)):
                continue
            if entry.is_symlink():
                yield entry, _symlink_problem(entry, boundary)
            else:
                yield entry, _suffix_problem(entry)
    for error in unreadable:  # a folder os.walk could not list is reported, never skipped
        yield Path(error.filename or path), f"cannot read: {error.strerror or error}"


def _inside(path: Path, boundary: Path) -> bool:
    """Whether ``path`` is ``boundary`` or under it, written either resolved or as given."""
    return path.is_relative_to(boundary) or path.is_relative_to(os.path.abspath(boundary))


def _symlink_problem(path: Path, boundary: Path) -> str:
    # Name where it points only when that is inside the registry: its path may say
    # more than the user meant to show (a home folder, a secret's file name).
    target = Path(os.path.realpath(path))
    if not _inside(target, boundary):
        return "is a symlink pointing outside the registry (not read)"
    shown = os.path.relpath(target, boundary)
    return (f"is a symlink (to {shown}); Git stores the link, not the file, so promptctl "
            "cannot read it as a prompt: make it a regular file")


def _suffix_problem(path: Path) -> str | None:
    if path.name.endswith(_OTHER_YAML_SUFFIXES):
        stem = path.name.rpartition(".")[0]
        return (f"not a prompt file: promptctl reads only '{PROMPT_SUFFIX}' files "
                f"(rename it {stem}{PROMPT_SUFFIX})")
    return None


def _check_file(path: Path) -> tuple[list[InvalidPromptFile], list[CheckWarning]]:
    source = str(path)
    try:
        # Regular files only, and at most the limit + 1 bytes: /dev/zero and FIFOs end.
        data = read_limited(path, MAX_FILE_BYTES, regular_only=True)
    except OSError as exc:
        return [InvalidPromptFile(source, None, f"cannot read: {exc.strerror or exc}")], []
    if problem := size_problem(len(data), MAX_FILE_BYTES):
        return [InvalidPromptFile(source, None, problem)], []
    try:
        text = decode_prompt(data, source)
    except InvalidPromptFile as exc:
        return [exc], []
    problems = find_problems(text, source, slips=True)
    if problems:
        return problems, []
    content = parse_prompt(text, source)
    return [], [CheckWarning(source, key, note) for key, note in find_warnings(content)]


def _registry_of(path: Path) -> Path:
    """The nearest folder at or above ``path`` holding ``promptctl.yaml``, else its folder."""
    start = Path(os.path.abspath(path))
    for folder in (start, *start.parents):
        if (folder / "promptctl.yaml").is_file():
            return Path(os.path.realpath(folder))
    return Path(os.path.realpath(start if start.is_dir() and not start.is_symlink()
                                 else start.parent))
