"""Review: every prompt added, removed, renamed or changed between two Git refs.

This is what ``promptctl diff --base REF [--head REF]`` shows and what a pull-request
comment is made of. Only the two trees are compared (``git diff-tree -M``), so it works
on any pair of commits - a pull request's head against its base branch included - and
needs no version numbers: versions belong to the registry branch, a pull request has
none yet.

A change is *breaking* when code that loads and formats the prompt today can fail or
silently lose text after it: the prompt removed or renamed, a variable added (every
variable is required) or removed, the template turned from text into chat messages or
back, or a file that no longer loads.

The JSON shape (``Review.to_dict``, printed by ``--format json``) is stable::

    {"base": {"ref": "origin/main", "commit": "<sha>"},
     "head": {"ref": "HEAD", "commit": "<sha>"},
     "folder": "prompts/",
     "counts": {"added": 1, "removed": 0, "renamed": 0, "changed": 2, "breaking": 1},
     "changes": [                                   # sorted by name
       {"name": "support/sum", "status": "changed",  # added | removed | renamed | changed
        "old_name": null, "path": "prompts/support/sum.yaml", "old_path": null,
        "breaking": ["new required variable(s) tone: ..."],   # [] when not breaking
        "problem": null,                             # why a side does not load, if so
        "description": {"from": "...", "to": "..."} | null,
        "model_config": {"temperature": {"from": 0.2, "to": 0.5}},
        "tags": {"team": {"from": null, "to": "support"}},
        "response_format": {"from": ..., "to": ...} | null,
        "variables_added": ["tone"], "variables_removed": [],
        "template_diff": ["--- a/prompts/support/sum.yaml", "+++ b/...", "@@ ...", ...]}]}

An added prompt is compared with nothing (every setting goes from ``null``, the diff
adds every line); a removed one the other way round.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from .compare import diff_versions, line_diff
from .errors import InvalidName, InvalidPromptFile
from .formats.promptfile import PromptContent, parse_prompt
from .formats.references import validate_name
from .git import Repo
from .git.history import FileChange
from .models import PromptDiff, PromptVersion

STATUSES: tuple[str, ...] = ("added", "removed", "renamed", "changed")
"""The kinds of change, in the order counts are shown."""


@dataclass(frozen=True)
class PromptChange:
    """One prompt that differs between base and head.

    ``name`` is the name at head (at base for a removed prompt); ``old_name`` is set for a
    rename, whose content may have changed too. ``diff`` compares base with head.
    ``problem`` says why one side is not a valid prompt file; ``diff`` then holds a plain
    line diff of the files. ``breaking`` gives one reason per way callers can break.
    """

    name: str
    status: str
    path: str
    diff: PromptDiff
    old_name: str | None = None
    old_path: str | None = None
    response_format_change: tuple[Any, Any] | None = None
    problem: str | None = None
    breaking: tuple[str, ...] = ()

    @property
    def is_breaking(self) -> bool:
        """True when callers of the prompt may fail or lose text after this change."""
        return bool(self.breaking)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (see the module docstring for the shape)."""
        details = self.diff.to_dict()
        rf = self.response_format_change
        return {
            "name": self.name,
            "status": self.status,
            "old_name": self.old_name,
            "path": self.path,
            "old_path": self.old_path,
            "breaking": list(self.breaking),
            "problem": self.problem,
            "description": details["description"],
            "model_config": details["model_config"],
            "tags": details["tags"],
            "response_format": {"from": rf[0], "to": rf[1]} if rf else None,
            "variables_added": details["variables_added"],
            "variables_removed": details["variables_removed"],
            "template_diff": details["template_diff"],
        }


@dataclass(frozen=True)
class Review:
    """Every prompt changed between two refs; ``folder`` is the prompts folder in the repo."""

    base: str
    head: str
    base_commit: str
    head_commit: str
    folder: str
    changes: tuple[PromptChange, ...]

    @property
    def counts(self) -> dict[str, int]:
        """How many prompts per status, and how many of them are breaking."""
        found = dict.fromkeys(STATUSES, 0)
        for change in self.changes:
            found[change.status] += 1
        found["breaking"] = len(self.breaking)
        return found

    @property
    def breaking(self) -> tuple[PromptChange, ...]:
        """The changes that can break callers."""
        return tuple(c for c in self.changes if c.is_breaking)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (see the module docstring for the shape)."""
        return {
            "base": {"ref": self.base, "commit": self.base_commit},
            "head": {"ref": self.head, "commit": self.head_commit},
            "folder": self.folder,
            "counts": self.counts,
            "changes": [c.to_dict() for c in self.changes],
        }


def review(repo: Repo, prefix: str, base: str, head: str | None = None, *,
           exact: bool = False) -> Review:
    """Compare the prompts under ``prefix + "prompts/"`` at ``base`` with those at ``head``.

    ``head`` defaults to ``HEAD``. ``base`` is compared from its merge base with ``head``,
    as a pull request shows a branch's own changes (what ``base`` gained since the branch
    point is not the branch's doing); ``exact`` compares with ``base``'s tip itself.
    ``base_commit`` of the result says which commit was compared. An unknown ref raises
    ``NotFound`` naming it.
    """
    head_ref = head or "HEAD"
    base_commit = repo.history.rev_parse(base)
    head_commit = repo.history.rev_parse(head_ref)
    if not exact:
        base_commit = repo.history.merge_base(base_commit, head_commit) or base_commit
    folder = f"{prefix}prompts/"
    changes = []
    for file in repo.history.changed_files(base_commit, head_commit, folder):
        change = _change(repo, folder, file, base, head_ref)
        if change is not None:
            changes.append(change)
    changes.sort(key=lambda c: c.name)
    return Review(base, head_ref, base_commit, head_commit, folder, tuple(changes))


@dataclass(frozen=True)
class _Side:
    """One side of a changed file: its name and path, and its content or why it has none."""

    name: str
    path: str
    text: str
    content: PromptContent | None
    problem: str | None


def _change(
    repo: Repo, folder: str, file: FileChange, base: str, head: str
) -> PromptChange | None:
    old = _side(repo, folder, file.old_path, file.old_blob, base)
    new = _side(repo, folder, file.path, file.blob, head)
    if old is None and new is None:
        return None  # not a prompt file on either side (another extension, a bad name)
    if old is not None and new is not None:
        if old.path == new.path and old.content is not None and old.content == new.content:
            return None  # only the YAML's layout or comments changed, not the prompt
        status = "changed" if old.path == new.path else "renamed"
    else:
        status = "added" if new is not None else "removed"
    shown = new or old
    assert shown is not None
    problem = next((s.problem for s in (old, new) if s is not None and s.problem), None)
    if problem is not None:
        diff = _file_diff(shown.name, old, new)
    else:
        diff = _prompt_diff(shown.name, old, new)
    rf_before = old.content.response_format if old and old.content else None
    rf_after = new.content.response_format if new and new.content else None
    return PromptChange(
        name=shown.name,
        status=status,
        path=shown.path,
        diff=diff,
        old_name=old.name if status == "renamed" and old else None,
        old_path=old.path if status == "renamed" and old else None,
        response_format_change=(rf_before, rf_after) if rf_before != rf_after else None,
        problem=problem,
        breaking=_breaking(status, old, new, diff),
    )


def _side(repo: Repo, folder: str, path: str, blob: str | None, ref: str) -> _Side | None:
    if blob is None or not (path.startswith(folder) and path.endswith(".yaml")):
        return None
    try:
        name = validate_name(path[len(folder):-len(".yaml")])
    except InvalidName:
        return None  # a file promptctl could never address is not a prompt
    found = repo.objects.read(blob)
    data = found[1] if found else b""
    try:
        text = data.decode("utf-8")
        return _Side(name, path, text, parse_prompt(text, f"{path} at {ref}"), None)
    except UnicodeDecodeError:
        return _Side(name, path, "", None, f"{path} at {ref}: not UTF-8 text")
    except InvalidPromptFile as exc:
        return _Side(name, path, text, None, str(exc))


def _prompt_diff(name: str, old: _Side | None, new: _Side | None) -> PromptDiff:
    diff = diff_versions(_version(name, old), _version(name, new))
    if not diff.template_diff:
        return diff
    # diff_versions labels the sides with version URIs; between two refs there are no
    # version numbers, so label them as git does, with the files.
    return dataclasses.replace(diff, template_diff=(*_labels(old, new), *diff.template_diff[2:]))


def _version(name: str, side: _Side | None) -> PromptVersion:
    """A side as a version for ``diff_versions``; an absent side is an empty prompt."""
    content = side.content if side and side.content else PromptContent("")
    return PromptVersion(
        name=name, version=0, template=content.template, commit="", commit_message="",
        author="", timestamp=0, description=content.description,
        model_config=content.model_config, tags=content.tags,
        response_format=content.response_format,
    )


def _file_diff(name: str, old: _Side | None, new: _Side | None) -> PromptDiff:
    """A plain line diff of the files, for when one side is not a valid prompt file."""
    before, after = (old.text if old else ""), (new.text if new else "")
    lines = line_diff(before, after)
    return PromptDiff(name, 0, 0, (*_labels(old, new), *lines[2:]), {}, {}, None, (), ())


def _labels(old: _Side | None, new: _Side | None) -> tuple[str, str]:
    return (
        f"--- a/{old.path}" if old else "--- /dev/null",
        f"+++ b/{new.path}" if new else "+++ /dev/null",
    )


def _breaking(status: str, old: _Side | None, new: _Side | None,
              diff: PromptDiff) -> tuple[str, ...]:
    if old is None:
        if new is not None and new.problem:
            return (f"does not load: {new.problem}",)
        return ()  # a new prompt has no callers yet
    if new is None:
        return (f"prompt removed: loading {old.name} fails",)
    reasons = []
    if status == "renamed":
        reasons.append(f"renamed from {old.name}: callers loading {old.name} must change")
    if new.problem:
        reasons.append(f"does not load: {new.problem}")
    elif old.content is not None and new.content is not None:
        reasons.extend(diff.breaking)
    return tuple(reasons)
