"""A prompt update: a new template and the settings to change; the rest carries over.

``promptctl register NAME -t TEXT --tag team=support`` says what changes, not what the
whole next version holds: the description, model config, tags and response format of
the newest version stay unless named. A setting given as ``None`` (``KEY=`` on the
command line) is removed. The registry applies an update to the newest version inside
its write mutex, so two updates of one prompt never lose each other's changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .promptfile import PromptContent
from .template import Template

KEEP: Any = type("Keep", (), {"__repr__": lambda self: "KEEP"})()
"""For ``description`` and ``response_format``: carry the newest version's value over."""


@dataclass(frozen=True)
class PromptUpdate:
    """The next version as a change of the newest: ``template``, and each setting named
    in ``model_config``/``tags`` set (or removed, with ``None``)."""

    template: Template
    model_config: Mapping[str, Any] = field(default_factory=dict)
    tags: Mapping[str, str | None] = field(default_factory=dict)
    description: Any = KEEP
    response_format: Any = KEEP

    def apply(self, base: PromptContent | None) -> PromptContent:
        """The content this update makes of ``base`` (``None``: a prompt's first version)."""
        base = base or PromptContent("")
        return PromptContent(
            self.template,
            base.description if self.description is KEEP else self.description,
            _merged(base.model_config, self.model_config),
            _merged(base.tags, self.tags),
            base.response_format if self.response_format is KEEP else self.response_format,
        )


def changed_fields(before: PromptContent | None, after: PromptContent) -> tuple[str, ...]:
    """What differs from ``before`` to ``after``: ``template``, ``description``,
    ``response_format``, ``model_config.<key>`` and ``tags.<key>``, in that order."""
    before = before or PromptContent("")
    found = [key for key in ("template", "description")
             if getattr(before, key) != getattr(after, key)]
    for group in ("model_config", "tags"):
        old, new = getattr(before, group), getattr(after, group)
        found += [f"{group}.{key}" for key in sorted(set(old) | set(new), key=str)
                  if old.get(key, KEEP) != new.get(key, KEEP)]
    if before.response_format != after.response_format:
        found.append("response_format")
    return tuple(found)


def _merged(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged
