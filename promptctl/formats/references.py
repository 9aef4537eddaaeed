"""Prompt names, alias names, references and authors: parse and validate, before Git sees them.

A reference names one version of a prompt (SPEC §4)::

    name, name@latest, prompts:/name@latest   the newest version
    name/3, prompts:/name/3                   version 3
    name@production                           the version the alias points to

An author is ``'Name <email>'``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import InvalidInput, InvalidName, InvalidReference

MAX_NAME_LENGTH = 200
MAX_ALIAS_LENGTH = 100
LATEST = "latest"
URI_SCHEME = "prompts:/"

_SEGMENT = re.compile(r"[A-Za-z0-9._-]+")
_ALIAS = re.compile(r"[A-Za-z0-9_-]+")
_RESERVED_ALIAS = re.compile(r"v[0-9]+")


def validate_name(name: str) -> str:
    """Return ``name`` if it is a valid prompt name, else raise :class:`InvalidName`."""
    if not name:
        raise InvalidName("prompt name", name, "it is empty")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidName("prompt name", name, f"longer than {MAX_NAME_LENGTH} characters")
    for segment in name.split("/"):
        if not segment:
            raise InvalidName("prompt name", name, "empty path segment (leading, trailing or double '/')")
        if segment in (".", ".."):
            raise InvalidName("prompt name", name, f"'{segment}' is not allowed as a segment")
        if segment.startswith("."):
            raise InvalidName("prompt name", name, "a segment may not start with '.'")
        if not _SEGMENT.fullmatch(segment):
            raise InvalidName(
                "prompt name", name, "use only letters, digits, '.', '_', '-' and '/' between segments"
            )
        if segment.endswith(".lock"):
            # Git refuses ref components ending in .lock, and aliases are refs.
            raise InvalidName("prompt name", name, "a segment may not end with '.lock'")
    if "/" in name and name.rpartition("/")[2].isdigit():
        # 'summaries/3' would read as version 3 of 'summaries'.
        raise InvalidName("prompt name", name, "the last segment may not be only digits")
    return name


def validate_alias(alias: str) -> str:
    """Return ``alias`` if it may be set as an alias, else raise :class:`InvalidName`.

    ``latest`` and ``v<digits>`` are reserved: the first is computed, the second would
    read like a version number.
    """
    if not alias:
        raise InvalidName("alias", alias, "it is empty")
    if len(alias) > MAX_ALIAS_LENGTH:
        raise InvalidName("alias", alias, f"longer than {MAX_ALIAS_LENGTH} characters")
    if not _ALIAS.fullmatch(alias):
        raise InvalidName("alias", alias, "use only letters, digits, '_' and '-'")
    if alias == LATEST or _RESERVED_ALIAS.fullmatch(alias):
        raise InvalidName("alias", alias, "reserved ('latest' and 'v<number>' cannot be set)")
    return alias


@dataclass(frozen=True)
class PromptRef:
    """A parsed reference: a name and at most one of ``version`` or ``alias``.

    Both ``None`` means the newest version (``latest``).
    """

    name: str
    version: int | None = None
    alias: str | None = None

    @property
    def is_latest(self) -> bool:
        """True when the reference means the newest version."""
        return self.version is None and self.alias is None

    def __str__(self) -> str:
        if self.version is not None:
            return f"{self.name}/{self.version}"
        return f"{self.name}@{self.alias or LATEST}"


def parse_ref(text: str) -> PromptRef:
    """Parse a reference in any form of SPEC §4; raise :class:`InvalidReference` if it is bad."""
    body = text.removeprefix(URI_SCHEME)
    if not body:
        raise InvalidReference(text, "no prompt name")
    if "@" in body:
        name, _, alias = body.rpartition("@")
        if not alias:
            raise InvalidReference(text, "nothing after '@'")
        if alias == LATEST:
            return PromptRef(_checked_name(text, name))
        if not _ALIAS.fullmatch(alias) or len(alias) > MAX_ALIAS_LENGTH:
            raise InvalidReference(text, f"{alias!r} is not a valid alias")
        return PromptRef(_checked_name(text, name), alias=alias)
    head, _, tail = body.rpartition("/")
    if head and tail.isdigit():
        version = int(tail)
        if version < 1:
            raise InvalidReference(text, "versions are numbered from 1")
        return PromptRef(_checked_name(text, head), version=version)
    return PromptRef(_checked_name(text, body))


def parse_version_spec(name: str, spec: str) -> PromptRef:
    """``3``, ``v3``, ``production`` or ``latest`` as a reference to a version of ``name``."""
    text = spec[1:] if spec[:1] == "v" and spec[1:].isdigit() else spec
    if text.isdigit():
        return PromptRef(name, version=int(text))
    return parse_ref(f"{name}@{text}")


def parse_author(author: str | None) -> tuple[str, str] | None:
    """``'Name <email>'`` as ``(name, email)``; ``None`` stays ``None`` (Git's own identity)."""
    if author is None:
        return None
    name, _, rest = author.partition("<")
    email = rest.rstrip().rstrip(">").strip()
    if not name.strip() or not email or "@" not in email:
        raise InvalidInput(f"invalid author {author!r}: use 'Name <email>'")
    return name.strip(), email


def _checked_name(text: str, name: str) -> str:
    try:
        return validate_name(name)
    except InvalidName as exc:
        raise InvalidReference(text, exc.reason) from exc
