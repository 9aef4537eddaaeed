"""One prompt file: YAML text <-> a prompt's fields, and the schema checks.

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

Files are only ever read with YAML's safe loader. :func:`dump_prompt` is deterministic
(the registry spots identical content by comparing bytes) and round-trips:
``parse_prompt(dump_prompt(c), src) == c`` for every valid ``c``.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..errors import InvalidPromptFile
from . import plainyaml
from .bounded import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_TEXT,
    MAX_VALUES,
    StrictLoader,
    decode_utf8,
    load_yaml,
    shown_key,
    size_problem,
    text_size_problem,
    yaml_limit_problem,
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

_Loader = StrictLoader  # the safe loader, refusing duplicate keys (see formats.bounded)


def _load(text: str, source: str) -> Any:
    """Parse YAML text within the bounds of :mod:`.bounded`; any failure is InvalidPromptFile.

    A file in the plain form (:mod:`.plainyaml`: what promptctl writes) is read without
    YAML's parser, which gives the same answer ~20 times slower."""
    if not text_size_problem(text, MAX_FILE_BYTES):
        data = plainyaml.read(text)
        if data is not None:
            return data
    return load_yaml(text, source, InvalidPromptFile)


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
    if problem := text_size_problem(text, MAX_FILE_BYTES):
        raise InvalidPromptFile(source, None, problem)
    try:
        problem = yaml_limit_problem(text)
        if problem is not None:
            raise InvalidPromptFile(source, None, problem)
        data = yaml.load(text, Loader=_Loader)  # a safe loader
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
    """Validate ``content`` and return the bytes of its prompt file (:func:`dump_prompt`).

    Refuses content whose file would be larger than :data:`MAX_FILE_BYTES`, which no
    later load could read back.
    """
    return encode_prompt_read_back(content, source)[0]


def encode_prompt_read_back(content: PromptContent, source: str) -> tuple[bytes, PromptContent]:
    """:func:`encode_prompt`, and the content a load of those bytes gives (what
    :func:`parse_prompt` returns), known without parsing them again: dumping reads the
    text back to check it."""
    validate_content(content, source)
    text, read_back = _dump_checked(content)
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


def _size_problem(data: Any) -> str | None:
    """:func:`.bounded.yaml_limit_problem` for in-memory values: too many, too much, too deep.

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


# --- writing ---------------------------------------------------------------------------

# Strings a literal block holds exactly *and* that survive editors and pre-commit hooks:
# printable characters, tab and "\n" only (YAML folds "\r", NEL, LS and PS into "\n"),
# and no whitespace at the end of a line (trailing-whitespace fixers would strip it).
_TRAILING_SPACE = re.compile(r"[^\S\n](?:\n|\Z)")
_LINE_BREAKS = re.compile("[\n\r\x85\u2028\u2029]")


@functools.cache  # compiled on the first write, which no load should pay for
def not_literal_char() -> re.Pattern[str]:
    """A character a literal block cannot hold as it is (see above).

    Written as the characters refused: the complement of ``[\t\n\x20-\x7e\xa0-\u2027
    \u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]``, which took ~3.5 ms
    to compile where these few small ranges take ~0.3 ms (a test compares the two on
    every code point).
    """
    return re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff"
                      "\ufeff\ufffe\uffff]")


def _literal_ok(text: str) -> bool:
    return (bool(text) and not not_literal_char().search(text)
            and not _TRAILING_SPACE.search(text))


class _Block(str):
    """Marks a text template: always a literal block when it can be one."""


class _Prose(str):
    """Marks a chat message's content or a description: a literal block when multi-line.

    Other texts with line breaks (stop sequences, tag values …) are short and read
    better double-quoted: ``"\\n\\n"`` rather than an empty-looking block.
    """


class _Dumper(yaml.SafeDumper):
    """The pure-Python safe dumper, tuned for reviewable, deterministic prompt files.

    Deliberately not libyaml's CSafeDumper: libyaml is optional, so two machines could
    write the same content as different bytes (a spurious new version), and libyaml will
    not put a tab in a literal block. Writing is not on a hot path.
    """

    use_literal = True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Indent lists under their key, as the README shows and yamllint's default expects.
        return super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True  # a value used twice is written twice, never as &id001 / *id001

    def choose_scalar_style(self) -> str:
        # PyYAML refuses block style for any text with a tab; _represent_str only asks
        # for "|" when _literal_ok() said a literal block holds the text exactly.
        event = self.event
        in_block = not self.flow_level and not self.simple_key_context
        if isinstance(event, yaml.ScalarEvent) and event.style == "|" and in_block:
            return "|"
        return str(super().choose_scalar_style())

    def determine_block_hints(self, text: str) -> str:
        hints = str(super().determine_block_hints(text))
        if text.startswith("\t"):
            # libyaml cannot guess the indentation of a block whose first line starts
            # with a tab ("found a tab character where an indentation space is expected").
            hints = str(self.best_indent) + hints
        return hints


class _PlainDumper(_Dumper):
    """The fallback: no literal blocks, every multi-line text double-quoted."""

    use_literal = False


def _represent_str(dumper: _Dumper, text: str) -> yaml.ScalarNode:
    style: str | None = None
    if isinstance(text, _Block) or _LINE_BREAKS.search(text):
        literal = isinstance(text, (_Block, _Prose)) and dumper.use_literal
        style = "|" if literal and _literal_ok(text) else '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(text), style=style)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(_Block, _represent_str)
_Dumper.add_representer(_Prose, _represent_str)


def _dump(data: dict[str, Any], dumper: type[_Dumper]) -> str:
    return yaml.dump(
        data,
        Dumper=dumper,
        sort_keys=False,  # keep the user's order inside model_config, tags …
        allow_unicode=True,
        default_flow_style=False,
        indent=2,
        width=sys.maxsize,  # never fold long lines: a one-word edit stays a one-line diff
    )


def dump_prompt(content: PromptContent) -> str:
    """Write content as prompt-file YAML: metadata first, the template last.

    Text templates (and multi-line texts anywhere) become literal blocks so that a pull
    request shows a line diff; a text a literal block cannot hold exactly (trailing
    spaces, control characters, "\\r") is double-quoted instead. The same content always
    gives the same bytes.
    """
    return _dump_checked(content)[0]


def _dump_checked(content: PromptContent) -> tuple[str, dict[str, Any] | None]:
    """:func:`dump_prompt`'s text, and the values a safe load of it gives when they were
    read back to check it (``None``: the plain fallback, not read back)."""
    data: dict[str, Any] = {}
    if content.description is not None:
        data["description"] = _Prose(content.description)
    if content.model_config:
        data["model_config"] = content.model_config
    if content.tags:
        data["tags"] = content.tags
    if content.response_format is not None:
        data["response_format"] = content.response_format
    template = content.template
    if isinstance(template, str):
        data["template"] = _Block(template)
    else:
        data["template"] = [
            {k: _Prose(v) if k == "content" and isinstance(v, str) else v for k, v in m.items()}
            for m in template
        ]

    text = _dump(data, _Dumper)
    # Correctness first: should a literal block ever read back differently (an emitter
    # corner we did not foresee), write the plain, fully quoted form instead.
    read_back = yaml.load(text, Loader=_Loader)  # _Loader is a safe loader
    if read_back != data:
        return _dump(data, _PlainDumper), None
    return text, read_back
