"""The plain form of a prompt file, read without a YAML library.

Nearly every prompt file is in the form promptctl writes::

    description: Summarize a support ticket
    model_config:
      model_name: gpt-4o-mini
      temperature: 0.2
    template: |
      Summarize the ticket below in {{ num_sentences }} sentences.

top-level keys, each holding a plain value, a mapping of plain values one level in, or a
literal block (``|``, ``|-``, ``|+``), and comment lines between keys. In that form a
file means to YAML exactly what :func:`read` makes of it. Anything else is left to YAML
(``read`` returns ``None``): quotes, flow style, comments after a value or inside a
mapping, anchors, tags, lists, a block with an indentation indicator, a value YAML could
take for something other than text (``yes``, ``1e3``, ``2024-01-01``, ``~``), a
character YAML refuses or reads as a line break.

:func:`write` writes content in that form byte for byte as ``promptdump`` does with
PyYAML's emitter, and gives up (``None``) wherever the emitter would write anything else.

Why: PyYAML costs a cold ``promptctl load`` ~10 ms to import, more than the load itself
(its reader compiles a large regular expression at import), and its pure-Python emitter
~0.4 ms a register. The tests hold ``read`` to YAML's own answer on generated and mutated
files, and ``write`` to the emitter's bytes on generated content.
"""

from __future__ import annotations

import re

from .bounded import MAX_FILE_BYTES, text_size_problem

TYPE_CHECKING = False  # typing itself costs a cold load ~2 ms
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from ..errors import InvalidFile

MOST_KEYS = 1000
"""Keys read at most; a file with more is left to YAML, which bounds what it builds."""

_KEY = r"[A-Za-z_][A-Za-z0-9_.-]*"
# A key, then ":" and either the end of the line or one space and a value.
_ENTRY = re.compile(rf"({_KEY}):(?: (.+))?")
_PLAIN_KEY = re.compile(_KEY)
# Plain text: a letter first (no number, date, null or indicator starts with one), then
# no ":" (a mapping), "#" (a comment) or tab, and no space at the end (YAML drops it).
_TEXT = re.compile(r"[A-Za-z](?:[^:#\t]*[^:#\t ])?")
_INT = re.compile(r"-?(?:0|[1-9][0-9]{0,17})")
_FLOAT = re.compile(r"-?(?:0|[1-9][0-9]{0,17})\.[0-9]{1,17}")
# Words YAML 1.1 reads as booleans or null (PyYAML's resolver), whatever else they look like.
_WORDS = frozenset(["yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false",
                    "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "null", "Null",
                    "NULL"])
_NO = object()


def load(text: str, source: str, error: type[InvalidFile]) -> Any:
    """YAML text read within the bounds of :mod:`.bounded`: in the plain form here, without
    importing PyYAML, else by :func:`.safeyaml.load_yaml` (every failure raises ``error``
    naming ``source``)."""
    if not text_size_problem(text, MAX_FILE_BYTES):
        data = read(text)
        if data is not None:
            return data
    from .safeyaml import load_yaml

    return load_yaml(text, source, error)


def read(text: str) -> dict[str, Any] | None:
    """The mapping YAML reads from ``text`` when it is in the plain form, else ``None``."""
    if not text.endswith("\n") or not _printable(text):
        return None
    lines = text.split("\n")
    lines.pop()  # what follows the last line break: nothing
    if lines and lines[-1] == "...":
        lines.pop()  # the end of the document, which YAML writes after a kept block's end
    data: dict[str, Any] = {}
    keys = 0
    at = 0
    while at < len(lines):
        if lines[at].startswith("#"):
            at += 1  # a comment on a line of its own, between keys
            continue
        entry = _key_and_value(lines[at])
        if entry is None or entry[0] in data:
            return None  # a duplicate key is YAML's to refuse, with its message
        key, value = entry
        at += 1
        if value is None:
            found, at = _mapping(lines, at)
            if not found:  # None: not plain; empty: null to YAML
                return None
            keys += len(found)
        elif value in ("|", "|-", "|+"):
            found, at = _block(lines, at, value[1:])
        else:
            found = _scalar(value)
        keys += 1
        if found is _NO or keys > MOST_KEYS:
            return None
        data[key] = found
    return data or None  # an empty document is null to YAML


def _printable(text: str) -> bool:
    """Whether every character of ``text`` but tabs and "\n" is printable, which leaves out
    control characters, the byte order mark and "\r", NEL, LS and PS (YAML reads those
    four as line breaks)."""
    return text.replace("\n", "").replace("\t", "").isprintable()


def _key_and_value(line: str) -> tuple[str, str | None] | None:
    match = _ENTRY.fullmatch(line)
    if match is None or match.group(1) in _WORDS:
        return None
    return match.group(1), match.group(2)


def _scalar(value: str) -> Any:
    """A plain value as YAML reads it: text, a whole number, a decimal or a boolean."""
    if _TEXT.fullmatch(value):
        if value in _WORDS:
            return value == "true" if value in ("true", "false") else _NO
        return value
    if _INT.fullmatch(value):
        return int(value)
    if _FLOAT.fullmatch(value):
        return float(value)
    return _NO


def _mapping(lines: list[str], at: int) -> tuple[dict[str, Any] | None, int]:
    """The mapping of plain values indented two spaces from line ``at``, and where it ends."""
    found: dict[str, Any] = {}
    while at < len(lines) and lines[at].startswith(" "):
        line = lines[at]
        entry = _key_and_value(line[2:]) if line.startswith("  ") else None
        if entry is None or entry[1] is None or entry[0] in found:
            return None, at
        value = _scalar(entry[1])
        if value is _NO:
            return None, at
        found[entry[0]] = value
        at += 1
    return found, at


def _block(lines: list[str], at: int, chomping: str) -> tuple[Any, int]:
    """The literal block from line ``at`` (indented two spaces, its first line not
    empty), chomped as ``chomping`` says ("": clip, "-": strip, "+": keep)."""
    if at == len(lines) or not lines[at].startswith("  ") or lines[at][2:3] in ("", " ", "\t"):
        return _NO, at  # YAML would work the indentation out another way
    content: list[str] = []
    while at < len(lines):
        line = lines[at]
        if line.startswith("  "):
            content.append(line[2:])
        elif not line.strip(" "):
            content.append("")  # an empty line, however few spaces it has
        else:
            break
        at += 1
    last = len(content)
    while not content[last - 1]:
        last -= 1
    text = "\n".join(content[:last])
    if chomping == "-":
        return text, at
    return text + "\n" * (1 + (len(content) - last if chomping == "+" else 0)), at


def write(data: Mapping[str, Any]) -> str | None:
    """``data`` (a prompt file's keys in the order they are written) in the plain form, as
    PyYAML's emitter writes it for ``promptdump``: the template and a description of more
    than one line as literal blocks, everything else plain; ``None`` where the emitter
    would write something else (quotes, lists, a block that needs an indentation
    indicator, a value :func:`read` would not read back)."""
    out: list[str] = []
    kept_block_last = False
    for key, value in data.items():
        kept_block_last = False
        if isinstance(value, dict):
            if not value:
                return None
            out.append(f"{key}:\n")
            for name, item in value.items():
                shown = _shown(item)
                if not _plain_key(name) or shown is None:
                    return None
                out.append(f"  {name}: {shown}\n")
        elif isinstance(value, str) and (key == "template" or "\n" in value):
            block = _literal(value)
            if block is None:
                return None
            out.append(f"{key}: {block}")
            kept_block_last = block.startswith("|+")
        else:
            shown = _shown(value)
            if shown is None or not _plain_key(key):
                return None
            out.append(f"{key}: {shown}\n")
    if kept_block_last:
        out.append("...\n")  # the emitter ends the document after a kept block's empty lines
    return "".join(out)


def _plain_key(name: Any) -> bool:
    """Whether ``name`` is a key :func:`read` reads, written as it is."""
    return isinstance(name, str) and bool(_PLAIN_KEY.fullmatch(name)) and name not in _WORDS


def _shown(value: Any) -> str | None:
    """A value as the emitter writes it plain, when :func:`read` reads it back the same."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        text = str(value)
        return text if _INT.fullmatch(text) else None
    if isinstance(value, float):
        text = repr(value)
        return text if _FLOAT.fullmatch(text) else None
    if isinstance(value, str) and _TEXT.fullmatch(value) and value not in _WORDS \
            and value.isprintable():
        return value
    return None


def _literal(text: str) -> str | None:
    """``|`` with its chomping and the lines of ``text``, indented two spaces, as the
    emitter writes a literal block; ``None`` where it would need more (or refuse one)."""
    if not text or text[0] in " \t\n" or not _printable(text):
        return None
    lines = text.split("\n")
    if any(line.endswith((" ", "\t")) for line in lines):
        return None  # whitespace ending a line: written quoted, a literal would lose it
    if not text.endswith("\n"):
        chomping = "-"
    else:
        lines.pop()
        chomping = "+" if text.endswith("\n\n") else ""
    return f"|{chomping}\n" + "".join(f"  {line}\n" if line else "\n" for line in lines)
