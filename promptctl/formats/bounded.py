"""Reading untrusted text within bounds: how big a file may be and what it may expand to.

Prompt files, ``promptctl.yaml``, lock files and values files come from a repository
anyone with push access edits, or from a user's command line. None of them may crash or
hang promptctl, so each is held to limits a real file never comes near:

* :data:`MAX_FILE_BYTES` of text. The longest real prompts (few-shot examples, long
  system prompts) run to tens of kilobytes; a megabyte is a quarter of a million tokens,
  more than a model's context window.
* :data:`MAX_VALUES` values (each scalar, mapping and list counts once) *after* YAML
  aliases are expanded: a ``*name`` counts everything it names each time it is used, so
  a 620-byte "billion laughs" file is refused in microseconds instead of being built.
  A JSON Schema with a few hundred properties has a few thousand values.
* :data:`MAX_TEXT` characters of text after alias expansion, for the same reason: one
  long text repeated by aliases would otherwise be written out whole at every use.
* :data:`MAX_DEPTH` levels of nesting. JSON Schemas nest a dozen levels at most; fifty
  keeps every recursive step (YAML's composer, the schema checks, ``json``) far inside
  Python's recursion limit.

YAML is read within these bounds by :mod:`.safeyaml`, which imports PyYAML; this module
imports nothing heavier than ``re``.
"""

from __future__ import annotations

import os
import re
import stat

from ..errors import InvalidFile

TYPE_CHECKING = False  # typing itself costs a cold load ~2 ms
if TYPE_CHECKING:
    from pathlib import Path

MAX_FILE_BYTES = 1024 * 1024
"""The most bytes one prompt file (or ``promptctl.yaml``, or a values file) may hold."""

MAX_VALUES = 100_000
"""The most values a file may hold once YAML aliases are expanded."""

MAX_TEXT = 1024 * 1024
"""The most characters of text a file may hold once YAML aliases are expanded."""

MAX_DEPTH = 50
"""The deepest mappings and lists may nest."""


def describe_bytes(count: int) -> str:
    """``1048576`` as ``'1 MiB'``: how an error names a size limit."""
    for unit, size in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if count >= size and count % size == 0:
            return f"{count // size} {unit}"
    return f"{count:,} bytes"


def size_problem(size: int, limit: int) -> str | None:
    """The problem with a file of ``size`` bytes, or ``None`` when it is within ``limit``."""
    if size <= limit:
        return None
    return f"is larger than {describe_bytes(limit)} (the limit for one file)"


def shown_key(key: str | None) -> str | None:
    """A key as an error names it: as written when printable and short, else its repr, cut.

    Keys come from the file, and an error is one line: a key holding a line break must
    not break it.
    """
    if key is None or (len(key) <= 120 and key.isprintable()):
        return key
    shown = key if key.isprintable() else repr(key)[1:-1]
    return shown if len(shown) <= 120 else shown[:117] + "..."


# -- bytes and files ----------------------------------------------------------------------


def decode_utf8(data: bytes, source: str, error: type[InvalidFile]) -> str:
    """``data`` as text; bytes that are not UTF-8 raise ``error`` naming the line and offset."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        byte = data[exc.start]
        problem = (f"is not UTF-8 text: byte 0x{byte:02x} at line {line} (offset {exc.start}) "
                   "cannot be decoded; save the file as UTF-8")
        raise error(source, None, problem) from exc


def read_limited(path: str | os.PathLike[str], limit: int, *, regular_only: bool = False) -> bytes:
    """At most ``limit + 1`` bytes of the file at ``path``, so a caller can tell it is too big.

    Never blocks on a FIFO nobody writes to when ``regular_only`` is set, and never reads
    ``/dev/zero`` or a pipe without end. Raises :class:`OSError` (``EINVAL`` with a
    message for a file that is not a regular file, when ``regular_only``).
    """
    flags = os.O_RDONLY | (getattr(os, "O_NONBLOCK", 0) if regular_only else 0)
    fd = os.open(path, flags)
    try:
        if regular_only and not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(22, "not a regular file")
        chunks: list[bytes] = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 16))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_text_file(path: Path, source: str, limit: int, error: type[InvalidFile]) -> str:
    """The UTF-8 text of a file of at most ``limit`` bytes; every failure raises ``error``.

    A missing file raises :class:`FileNotFoundError` for callers that report it their own
    way (a lock file that is not there is "not found", not "invalid").
    """
    try:
        data = read_limited(path, limit)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise error(source, None, f"cannot be read ({exc.strerror or exc})") from exc
    if problem := size_problem(len(data), limit):
        raise error(source, None, problem)
    return decode_utf8(data, source, error)


def text_size_problem(text: str, limit: int) -> str | None:
    """:func:`size_problem` for text, counting its UTF-8 bytes only when it could be too big."""
    if len(text) * 4 <= limit:  # a character is at most four bytes of UTF-8
        return None
    return size_problem(len(text.encode("utf-8", "surrogatepass")), limit)


# -- JSON -----------------------------------------------------------------------------------

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def json_depth_problem(text: str) -> str | None:
    """Whether JSON text nests deeper than :data:`MAX_DEPTH`, before ``json`` recurses into it.

    Brackets inside strings do not count. Text that is not JSON may be counted oddly,
    which only matters for text ``json`` would refuse anyway.
    """
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    depth = 0
    for bracket in brackets:
        if bracket in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return f"nests more than {MAX_DEPTH} levels deep (limit {MAX_DEPTH})"
        else:
            depth -= 1
    return None
