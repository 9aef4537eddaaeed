"""What changed between two versions of a prompt: template lines, config, tags, variables."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from .models import PromptDiff, PromptVersion


def diff_versions(older: PromptVersion, newer: PromptVersion) -> PromptDiff:
    """Compare two versions of one prompt, ``older`` first."""
    before, after = older.template_text, newer.template_text
    lines = line_diff(before, after, older.uri, newer.uri) if before != after else ()
    old_vars, new_vars = set(older.variables), set(newer.variables)
    added = tuple(v for v in newer.variables if v not in old_vars)
    removed = tuple(v for v in older.variables if v not in new_vars)
    description = (
        (older.description, newer.description) if older.description != newer.description else None
    )
    return PromptDiff(
        name=newer.name,
        from_version=older.version,
        to_version=newer.version,
        template_diff=lines,
        model_config_changes=changed_keys(older.model_config, newer.model_config),
        tag_changes=changed_keys(older.tags, newer.tags),
        description_change=description,
        variables_added=added,
        variables_removed=removed,
        breaking=breaking_reasons(added, removed, older.is_chat, newer.is_chat),
    )


def breaking_reasons(added: tuple[str, ...], removed: tuple[str, ...], was_chat: bool,
                     is_chat: bool) -> tuple[str, ...]:
    """Why callers of a prompt whose content changed so may fail or lose text."""
    reasons = []
    if added:
        reasons.append(f"new required variable(s) {', '.join(added)}: callers that do not "
                       "pass them fail")
    if removed:
        reasons.append(f"variable(s) {', '.join(removed)} removed: values callers pass for "
                       "them are dropped")
    if was_chat != is_chat:
        kinds = ("chat messages", "text") if was_chat else ("text", "chat messages")
        reasons.append(f"template changed from {kinds[0]} to {kinds[1]}: format() returns "
                       "another type")
    return tuple(reasons)


NO_NEWLINE = "\\ No newline at end of file"


def line_diff(before: str, after: str, fromfile: str = "", tofile: str = "") -> tuple[str, ...]:
    """A unified diff of two texts, one line per item, as git writes it: a last line
    without a line break is marked, so a change of only that break is not an identical
    ``-X``/``+X`` pair."""
    lines: list[str] = []
    for line in difflib.unified_diff(before.splitlines(keepends=True),
                                     after.splitlines(keepends=True), fromfile, tofile):
        lines.append(line.rstrip("\n"))
        if not line.endswith("\n"):
            lines.append(NO_NEWLINE)
    return tuple(lines)


def changed_keys(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """``{key: (old, new)}`` for every key added, removed or changed (``None`` for absent)."""
    return {
        key: (before.get(key), after.get(key))
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key) or (key in before) != (key in after)
    }
