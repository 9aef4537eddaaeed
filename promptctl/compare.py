"""What changed between two versions of a prompt: template lines, config, tags, variables."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from .models import PromptDiff, PromptVersion


def diff_versions(older: PromptVersion, newer: PromptVersion) -> PromptDiff:
    """Compare two versions of one prompt, ``older`` first."""
    before, after = older.template_text, newer.template_text
    lines = tuple(
        line.rstrip("\n")
        for line in difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=older.uri,
            tofile=newer.uri,
        )
    ) if before != after else ()
    old_vars, new_vars = set(older.variables), set(newer.variables)
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
        variables_added=tuple(v for v in newer.variables if v not in old_vars),
        variables_removed=tuple(v for v in older.variables if v not in new_vars),
    )


def changed_keys(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """``{key: (old, new)}`` for every key added, removed or changed (``None`` for absent)."""
    return {
        key: (before.get(key), after.get(key))
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key) or (key in before) != (key in after)
    }
