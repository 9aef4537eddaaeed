"""One prompt file: its text read into a prompt's fields, checked, and written back.

A prompt file is a YAML mapping with the metadata first and the template last::

    description: Summarize a support ticket
    model_config:
      model_name: gpt-4o-mini
      temperature: 0.2
    tags:
      team: support
    template: |
      Summarize the ticket below in {{ num_sentences }} sentences.
      Ticket: {{ticket}}

Files in the plain form (:mod:`.plainyaml`) are read without YAML, others only ever with
YAML's safe loader (:mod:`.safeyaml`); the fields are checked by :mod:`.schema`.
Writing is :mod:`.promptdump`'s: deterministic (the registry spots identical content by
comparing bytes) and round-tripping: ``parse_prompt(dump_prompt(c), src) == c`` for
every valid ``c``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidPromptFile
from . import plainyaml
from .bounded import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_TEXT,
    MAX_VALUES,
    decode_utf8,
    shown_key,
    size_problem,
    text_size_problem,
)
from .schema import TOP_LEVEL_KEYS, problems


@dataclass(frozen=True)
class PromptContent:
    """What one version of a prompt holds (everything in the file)."""

    template: str | list[dict[str, Any]]
    description: str | None = None
    model_config: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    response_format: dict[str, Any] | None = None

    @property
    def is_chat(self) -> bool:
        """True when the template is a list of chat messages rather than one text."""
        return isinstance(self.template, list)


# --- reading ---------------------------------------------------------------------------

def _load(text: str, source: str) -> Any:
    """Parse YAML text within the bounds of :mod:`.bounded`; any failure is InvalidPromptFile.

    A file in the plain form (:mod:`.plainyaml`: what promptctl writes) is read without
    YAML: the same answer ~7 times faster, and no PyYAML to import (~10 ms)."""
    return plainyaml.load(text, source, InvalidPromptFile)


def decode_prompt(data: bytes, source: str) -> str:
    """A prompt file's bytes as text: strict UTF-8, at most :data:`MAX_FILE_BYTES`.

    Raises :class:`InvalidPromptFile` naming the line and byte offset of the first byte
    that is not UTF-8, or the size limit.
    """
    if problem := size_problem(len(data), MAX_FILE_BYTES):
        raise InvalidPromptFile(source, None, problem)
    return decode_utf8(data, source, InvalidPromptFile)


def parse_prompt(text: str, source: str) -> PromptContent:
    """Read a prompt file's text; raise :class:`InvalidPromptFile` for its first problem.

    ``source`` names the file in error messages. What a committed version holds is read
    by the rules it was written under: the slips :func:`find_problems` reports with
    ``slips=True`` (a role or setting name close to a known one) do not stop a load.
    """
    data = _load(text, source)
    for key, problem in problems(data):
        raise InvalidPromptFile(source, shown_key(key), problem)
    return PromptContent(
        template=data["template"],
        description=data.get("description"),
        model_config=data.get("model_config") or {},
        tags=data.get("tags") or {},
        response_format=data.get("response_format"),
    )


def parse_prompt_bytes(data: bytes, source: str) -> PromptContent:
    """:func:`parse_prompt` of a file's bytes, which must be UTF-8 (:func:`decode_prompt`)."""
    return parse_prompt(decode_prompt(data, source), source)


def parse_prompt_source(text: str, source: str) -> PromptContent:
    """Read what a user hands ``register -f``: a whole prompt file, or just a template.

    A YAML mapping with a ``template`` key is a prompt file (and is validated as one);
    anything else is the template text itself. Text beyond the bounds of :mod:`.bounded`
    (too big, or YAML that expands too far) is refused either way.
    """
    return read_prompt_source(text, source)[0]


def read_prompt_source(text: str, source: str) -> tuple[PromptContent, bool]:
    """:func:`parse_prompt_source`, and whether it was a whole prompt file."""
    import yaml

    from .safeyaml import StrictLoader, yaml_limit_problem

    if problem := text_size_problem(text, MAX_FILE_BYTES):
        raise InvalidPromptFile(source, None, problem)
    try:
        problem = yaml_limit_problem(text)
        if problem is not None:
            raise InvalidPromptFile(source, None, problem)
        data = yaml.load(text, Loader=StrictLoader)  # a safe loader
    except (yaml.YAMLError, ValueError, TypeError, KeyError, AttributeError, IndexError,
            OverflowError):
        data = None  # not YAML we can read: it is template text
    if isinstance(data, dict) and "template" in data:
        return parse_prompt(text, source), True
    return PromptContent(text), False


def parse_prompt_source_bytes(data: bytes, source: str) -> PromptContent:
    """:func:`parse_prompt_source` of bytes (a file or stdin), which must be UTF-8."""
    return parse_prompt_source(decode_prompt(data, source), source)


def find_problems(text: str, source: str, *, slips: bool = False) -> list[InvalidPromptFile]:
    """Every problem in a prompt file's text, in file order; ``[]`` when it is valid.

    With ``slips``, also what is refused when a file is written or checked but not when
    a committed version is read: a chat role that is not one of :data:`.schema.CHAT_ROLES`, a
    ``model_config`` key that looks like a misspelt known setting.
    """
    try:
        data = _load(text, source)
    except InvalidPromptFile as exc:
        return [exc]
    found = problems(data, slips)
    return [InvalidPromptFile(source, shown_key(key), problem) for key, problem in found]


def find_warnings(content: PromptContent) -> list[tuple[str, str]]:
    """``(key, warning)`` for what is allowed but probably not meant, in template order.

    Today: near-variables such as ``{{ name }`` or ``{name}``, which stay literal text.
    """
    from . import template as tmpl

    if isinstance(content.template, str):
        texts = [("template", content.template)]
    else:
        texts = [(f"template[{i}].content", m["content"]) for i, m in enumerate(content.template)
                 if isinstance(m.get("content"), str)]
    warnings = []
    for key, text in texts:
        for near in tmpl.find_near_variables(text):
            warnings.append((key, f"{near.text} is literal text, not a variable ({near.hint})"))
    return warnings


def validate_content(content: PromptContent, source: str) -> None:
    """Apply the file's schema checks to in-memory content; raise the first problem.

    Content about to be written is held to everything :func:`find_problems` reports
    with ``slips=True``, and to the bounds of :mod:`.bounded`. Also refuses what a
    prompt file cannot store: arbitrary Python objects, and text with lone surrogates.
    """
    data = {key: getattr(content, key) for key in TOP_LEVEL_KEYS}
    if problem := _size_problem(data):
        raise InvalidPromptFile(source, None, problem)
    for key, problem in problems(data, slips=True):
        raise InvalidPromptFile(source, shown_key(key), problem)
    for key, value in data.items():
        # Only in-memory text can hold these: a file read as UTF-8 never does.
        for where, text in _texts(value, key):
            if surrogate := _SURROGATE.search(text):
                char = f"U+{ord(surrogate.group()):04X}"
                problem = f"contains a lone surrogate ({char}), which UTF-8 cannot store"
                raise InvalidPromptFile(source, shown_key(where), problem)


def encode_prompt(content: PromptContent, source: str) -> bytes:
    """Validate ``content`` and return the bytes of its prompt file (as ``promptdump``
    writes it).

    Refuses content whose file would be larger than :data:`MAX_FILE_BYTES`, which no
    later load could read back.
    """
    return encode_prompt_read_back(content, source)[0]


def encode_prompt_read_back(content: PromptContent, source: str) -> tuple[bytes, PromptContent]:
    """:func:`encode_prompt`, and the content a load of those bytes gives (what
    :func:`parse_prompt` returns), known without parsing them again: dumping reads the
    text back to check it."""
    validate_content(content, source)
    # The plain form where it serves (most prompts): no PyYAML to import, no emitter.
    fields = written(content)
    text = plainyaml.write(fields)
    read_back = plainyaml.read(text) if text is not None else None
    if text is None or read_back != fields:
        from .promptdump import dump_checked

        text, read_back = dump_checked(content)
    data = text.encode("utf-8")
    if problem := size_problem(len(data), MAX_FILE_BYTES):
        raise InvalidPromptFile(source, None, "its prompt file " + problem)
    if read_back is None:
        return data, parse_prompt(text, source)
    # What validate_content accepted passes parse_prompt's (laxer) checks too.
    return data, PromptContent(
        template=read_back["template"],
        description=read_back.get("description"),
        model_config=read_back.get("model_config") or {},
        tags=read_back.get("tags") or {},
        response_format=read_back.get("response_format"),
    )


def written(content: PromptContent) -> dict[str, Any]:
    """The keys a prompt file of ``content`` holds, in the order they are written: a
    missing description or response format and an empty model config or tags are left
    out, the template comes last."""
    data: dict[str, Any] = {}
    if content.description is not None:
        data["description"] = content.description
    if content.model_config:
        data["model_config"] = content.model_config
    if content.tags:
        data["tags"] = content.tags
    if content.response_format is not None:
        data["response_format"] = content.response_format
    data["template"] = content.template
    return data


def _size_problem(data: Any) -> str | None:
    """:func:`.safeyaml.yaml_limit_problem` for in-memory values: too many, too much, too deep.

    A walk with an explicit stack, so a value that contains itself ends at the depth
    limit instead of recursing.
    """
    values = chars = 0
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        values += 1
        if values > MAX_VALUES:
            return f"holds more than {MAX_VALUES:,} values (limit {MAX_VALUES:,})"
        if isinstance(value, str):
            chars += len(value)
            if chars > MAX_TEXT:
                return f"holds more than {MAX_TEXT:,} characters of text (limit {MAX_TEXT:,})"
        elif isinstance(value, (dict, list, tuple, set)):
            if depth >= MAX_DEPTH:
                return f"nests more than {MAX_DEPTH} levels deep (limit {MAX_DEPTH})"
            items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items)
    return None


_SURROGATE = re.compile("[\ud800-\udfff]")


def _texts(value: Any, key: str) -> Iterator[tuple[str, str]]:
    """Every text in a value, keys included, with where it sits."""
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for name, item in value.items():
            yield from _texts(name, key)
            yield from _texts(item, f"{key}.{name}")
    elif isinstance(value, (list, set)):
        for i, item in enumerate(value):
            yield from _texts(item, f"{key}[{i}]")
