"""Prompt names, alias names, references and authors: parse and validate, before Git sees them.

A reference names one version of a prompt::

    name, name@latest, prompts:/name@latest   the newest version
    name/3, prompts:/name/3                   version 3
    name@production                           the version the alias points to

An author is ``'Name <email>'``.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from ..errors import InvalidInput, InvalidName, InvalidReference

MAX_NAME_LENGTH = 200
MAX_ALIAS_LENGTH = 100
MAX_VERSION = 10**9
"""The highest version number a reference may name: more commits than any repository has."""
LATEST = "latest"
URI_SCHEME = "prompts:/"
ALIAS_REF_PREFIX = "refs/tags/prompts/"
"""Where alias tags live: ``refs/tags/prompts/<name>@<alias>``."""

_SEGMENT = re.compile(r"[A-Za-z0-9._-]+")
_ALIAS = re.compile(r"[A-Za-z0-9_-]+")
_RESERVED_ALIAS = re.compile(r"v[0-9]+")
_DIGITS = re.compile(r"[0-9]+")  # ASCII only: str.isdigit() is true for '²' and '٣'
_PROMPT_FILE_SUFFIXES = (".yaml", ".yml")


def validate_name(name: str) -> str:
    """Return ``name`` if it is a valid prompt name, else raise :class:`InvalidName`."""
    if not name:
        raise InvalidName("prompt name", name, "it is empty")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidName("prompt name", name, f"longer than {MAX_NAME_LENGTH} characters")
    for segment in name.split("/"):
        if not segment:
            raise InvalidName("prompt name", name,
                              "empty path segment (leading, trailing or double '/')")
        if segment in (".", ".."):
            raise InvalidName("prompt name", name, f"'{segment}' is not allowed as a segment")
        if segment.startswith("."):
            raise InvalidName("prompt name", name, "a segment may not start with '.'")
        if not _SEGMENT.fullmatch(segment):
            raise InvalidName(
                "prompt name", name,
                "use only letters, digits, '.', '_', '-' and '/' between segments"
            )
        if segment.endswith(".lock"):
            # Git refuses ref components ending in .lock, and aliases are refs.
            raise InvalidName("prompt name", name, "a segment may not end with '.lock'")
        if ".." in segment:
            # Git refuses '..' anywhere in a ref name (it means a range), and aliases are
            # refs: refs/tags/prompts/<name>@<alias>.
            raise InvalidName("prompt name", name, "'..' is not allowed")
        if segment.endswith("."):
            # Git allows it, but Windows cannot check out a file or folder named so.
            raise InvalidName("prompt name", name, "a segment may not end with '.'")
    if name.endswith(_PROMPT_FILE_SUFFIXES):
        # `register support/summarize.yaml` would make prompts/support/summarize.yaml.yaml.
        meant = name.rpartition(".")[0]
        raise InvalidName("prompt name", name,
                          f"a name has no file suffix: did you mean {meant!r}?")
    if "/" in name and _DIGITS.fullmatch(name.rpartition("/")[2]):
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
        raise InvalidName(
            "alias", alias, "reserved: 'latest' is computed and 'v<number>' reads as a version"
        )
    return alias


class PromptRef(NamedTuple):
    """A parsed reference: a name and at most one of ``version`` or ``alias``.

    Both ``None`` means the newest version (``latest``). A named tuple, not a dataclass:
    the cold ``promptctl load`` parses one, and ``dataclasses`` costs it ~6 ms to import.
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


def alias_ref(name: str, alias: str) -> str:
    """The tag that holds ``alias`` of prompt ``name``."""
    return f"{ALIAS_REF_PREFIX}{name}@{alias}"


def parse_ref(text: str) -> PromptRef:
    """Parse a reference in any form; raise :class:`InvalidReference` if it is bad."""
    body = text.removeprefix(URI_SCHEME)
    if not body:
        raise InvalidReference(text, "no prompt name")
    if "@" in body:
        name, _, alias = body.rpartition("@")
        if not alias:
            raise InvalidReference(text, "nothing after '@'")
        if alias == LATEST:
            return PromptRef(_checked_name(text, name))
        if len(alias) > MAX_ALIAS_LENGTH:
            raise InvalidReference(text, f"an alias is at most {MAX_ALIAS_LENGTH} characters")
        if not _ALIAS.fullmatch(alias):
            raise InvalidReference(text, f"{alias!r} is not a valid alias")
        if _RESERVED_ALIAS.fullmatch(alias):
            version = _version(text, alias[1:])
            raise InvalidReference(text, f"{alias} is not an alias: did you mean {name}/{version}?")
        return PromptRef(_checked_name(text, name), alias=alias)
    head, _, tail = body.rpartition("/")
    if head and _DIGITS.fullmatch(tail):
        return PromptRef(_checked_name(text, head), version=_version(text, tail))
    return PromptRef(_checked_name(text, body))


def _version(text: str, digits: str) -> int:
    """ASCII digits as a version number, within 1 to :data:`MAX_VERSION`."""
    significant = digits.lstrip("0")
    # Compare lengths first: int() of thousands of digits is slow, and refused past 4,300.
    if len(significant) > len(str(MAX_VERSION)) or int(significant or "0") > MAX_VERSION:
        raise InvalidReference(text, f"version numbers go up to {MAX_VERSION:,}")
    version = int(significant or "0")
    if version < 1:
        raise InvalidReference(text, "versions are numbered from 1")
    return version


def parse_version_spec(name: str, spec: str) -> PromptRef:
    """``3``, ``v3``, ``production`` or ``latest`` as a reference to a version of ``name``."""
    text = spec[1:] if spec[:1] == "v" and _DIGITS.fullmatch(spec[1:]) else spec
    if _DIGITS.fullmatch(text):
        return PromptRef(name, version=_version(f"{name}/{spec}", text))
    return parse_ref(f"{name}@{text}")


# A lone surrogate is how Python hands over command-line bytes that were not UTF-8.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def validate_message(message: str | None, what: str = "message") -> str | None:
    """A commit message (or a reason, an author) as given, or :class:`InvalidInput` when
    Git cannot store it: a NUL character, or bytes that were not UTF-8."""
    found = _UNSTORABLE.search(message) if message else None
    if found is not None:
        problem = ("a NUL character" if found.group() == "\0" else
                   f"bytes that are not UTF-8 (U+{ord(found.group()):04X})")
        raise InvalidInput(f"the {what} holds {problem}, which a Git commit cannot store")
    return message


def parse_author(author: str | None) -> tuple[str, str] | None:
    """``'Name <email>'`` as ``(name, email)``; ``None`` stays ``None`` (Git's own identity)."""
    if author is None:
        return None
    validate_message(author, "author")
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
