"""``promptctl check``: validate prompt files on disk and report every problem at once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InvalidPromptFile
from .formats.promptfile import find_problems


@dataclass(frozen=True)
class CheckReport:
    """How many files were read and every problem found in them."""

    files: int
    problems: tuple[InvalidPromptFile, ...]

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "files": self.files,
            "ok": self.ok,
            "problems": [
                {"file": p.source, "key": p.key, "problem": p.problem} for p in self.problems
            ],
        }


def check_paths(paths: Iterable[Path]) -> CheckReport:
    """Check each file, and each ``*.yaml`` under each folder, against the prompt schema."""
    files = 0
    problems: list[InvalidPromptFile] = []
    for path in paths:
        if path.is_dir():
            targets = sorted(path.rglob("*.yaml"))
        elif path.exists():
            targets = [path]
        else:
            problems.append(InvalidPromptFile(str(path), None, "no such file or folder"))
            continue
        for target in targets:
            files += 1
            try:
                text = target.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                problems.append(InvalidPromptFile(str(target), None, f"cannot read: {exc}"))
                continue
            problems.extend(find_problems(text, str(target)))
    return CheckReport(files, tuple(problems))
