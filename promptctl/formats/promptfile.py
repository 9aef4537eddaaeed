"""One prompt file: YAML text <-> a prompt's fields, and the schema checks of SPEC §2.

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

import datetime
import math
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..errors import InvalidPromptFile

try:  # libyaml's parser: parsing is on the hot path of every load
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]

MODEL_CONFIG_FIELDS: tuple[str, ...] = (
    "provider",
    "model_name",
    "temperature",
    "max_tokens",
    "top_p",
    "top_k",
    "frequency_penalty",
    "presence_penalty",
    "stop_sequences",
)
"""The model settings MLflow knows; any other ``model_config`` key is kept as an extra."""

TOP_LEVEL_KEYS: tuple[str, ...] = (
    "description",
    "model_config",
    "tags",
    "response_format",
    "template",
)
"""The keys a prompt file may have, in the order :func:`dump_prompt` writes them."""


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


class _Loader(_SafeLoader):
    """The safe loader, refusing duplicate keys: PyYAML would silently keep the last one,
    so a second ``template:`` would hide the first (yamllint and check-yaml refuse them too).
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # unhashable: the base class reports it
                continue
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
        return super().construct_mapping(node, deep=deep)


def _load(text: str, source: str) -> Any:
    """Parse YAML text, turning every YAML error into :class:`InvalidPromptFile`."""
    try:
        return yaml.load(text, Loader=_Loader)  # _Loader is a safe loader
    except yaml.MarkedYAMLError as exc:
        raise InvalidPromptFile(source, None, _describe_yaml_error(exc, text)) from exc
    except yaml.YAMLError as exc:  # a ReaderError: a character YAML does not allow
        bad = re.search(
            r"[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]", text
        )
        where = f" at line {text.count(chr(10), 0, bad.start()) + 1}" if bad else ""
        char = f" U+{ord(bad.group()):04X}" if bad else ""
        problem = f"not valid YAML{where}: control character{char} is not allowed"
        raise InvalidPromptFile(source, None, problem) from exc


def _describe_yaml_error(exc: yaml.MarkedYAMLError, text: str) -> str:
    mark = exc.problem_mark or exc.context_mark
    what = exc.problem or exc.context or "cannot be parsed"
    if mark is None:
        return f"not valid YAML: {what}"
    message = f"not valid YAML at line {mark.line + 1}, column {mark.column + 1}: {what}"
    lines = text.splitlines()
    if mark.line < len(lines) and re.search(r"(^|[:-])\s*\{\{", lines[mark.line]):
        # The most common slip: `content: {{question}}` reads as a YAML flow mapping.
        message += ' (a value that starts with "{" must be quoted: "{{ name }}")'
    return message


def parse_prompt(text: str, source: str) -> PromptContent:
    """Read a prompt file's text; raise :class:`InvalidPromptFile` for its first problem.

    ``source`` names the file in error messages.
    """
    data = _load(text, source)
    for key, problem in _problems(data):
        raise InvalidPromptFile(source, key, problem)
    return PromptContent(
        template=data["template"],
        description=data.get("description"),
        model_config=data.get("model_config") or {},
        tags=data.get("tags") or {},
        response_format=data.get("response_format"),
    )


def parse_prompt_source(text: str, source: str) -> PromptContent:
    """Read what a user hands ``register -f``: a whole prompt file, or just a template.

    A YAML mapping with a ``template`` key is a prompt file (and is validated as one);
    anything else is the template text itself.
    """
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError:
        data = None
    if isinstance(data, dict) and "template" in data:
        return parse_prompt(text, source)
    return PromptContent(text)


def find_problems(text: str, source: str) -> list[InvalidPromptFile]:
    """Every problem in a prompt file's text, in file order; ``[]`` when it is valid."""
    try:
        data = _load(text, source)
    except InvalidPromptFile as exc:
        return [exc]
    return [InvalidPromptFile(source, key, problem) for key, problem in _problems(data)]


def validate_content(content: PromptContent, source: str) -> None:
    """Apply the file's schema checks to in-memory content; raise the first problem.

    Also refuses what a prompt file cannot store: arbitrary Python objects, and text
    with lone surrogates.
    """
    data = {key: getattr(content, key) for key in TOP_LEVEL_KEYS}
    for key, problem in _problems(data):
        raise InvalidPromptFile(source, key, problem)
    for key, value in data.items():
        # Only in-memory text can hold these: a file read as UTF-8 never does.
        for where, text in _texts(value, key):
            if surrogate := _SURROGATE.search(text):
                char = f"U+{ord(surrogate.group()):04X}"
                problem = f"contains a lone surrogate ({char}), which UTF-8 cannot store"
                raise InvalidPromptFile(source, where, problem)


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


# --- schema checks ---------------------------------------------------------------------

_Problems = Iterator[tuple[str | None, str]]


def _problems(data: Any) -> _Problems:
    """Yield ``(key, problem)`` for everything wrong with a loaded file, in file order."""
    if data is None:
        yield None, "the file is empty; a prompt needs at least a 'template:' key"
        return
    if not isinstance(data, dict):
        yield None, f"must be a mapping of keys such as 'template:', got {_kind(data)}"
        return
    for key, value in data.items():
        check = _CHECKS.get(key) if isinstance(key, str) else None
        if check is None:
            yield str(key), _unknown_key(key)
        elif value is not None or key == "template":  # an empty optional key is absent
            yield from check(value)
    if "template" not in data:
        yield "template", "missing; every prompt needs a template"


def _unknown_key(key: Any) -> str:
    import difflib  # only for a file with a mistake: a load of a good one does not pay for it

    problem = "unknown key; allowed keys are " + ", ".join(TOP_LEVEL_KEYS)
    close = difflib.get_close_matches(str(key), TOP_LEVEL_KEYS, n=1)
    return problem + (f" (did you mean '{close[0]}'?)" if close else "")


def _check_description(value: Any) -> _Problems:
    if not isinstance(value, str):
        yield "description", f"must be text, got {_kind(value)}"


def _check_model_config(value: Any) -> _Problems:
    if not isinstance(value, dict):
        yield (
            "model_config",
            f"must be a mapping of settings such as 'temperature: 0.2', got {_kind(value)}",
        )
        return
    for name, setting in value.items():
        if not isinstance(name, str):
            yield "model_config", f"setting name {name!r} must be text"
            continue
        key = f"model_config.{name}"
        if name == "temperature":
            if not (_is_number(setting) and setting >= 0):
                yield key, f"must be a number >= 0, got {_kind(setting)}"
        elif name == "top_p":
            if not (_is_number(setting) and 0 <= setting <= 1):
                yield key, f"must be a number from 0 to 1, got {_kind(setting)}"
        elif name in ("top_k", "max_tokens"):
            if not (isinstance(setting, int) and not isinstance(setting, bool) and setting > 0):
                yield key, f"must be a positive integer, got {_kind(setting)}"
        elif name in ("frequency_penalty", "presence_penalty"):
            if not _is_number(setting):
                yield key, f"must be a number, got {_kind(setting)}"
        elif name == "stop_sequences":
            if not isinstance(setting, list):
                yield key, f"must be a list of text, got {_kind(setting)}"
                continue
            for i, stop in enumerate(setting):
                if not isinstance(stop, str):
                    yield f"{key}[{i}]", f"must be text, got {_kind(stop)}"
        elif name in ("provider", "model_name"):
            if not isinstance(setting, str):
                yield key, f"must be text, got {_kind(setting)}"
        else:
            yield from _check_data(setting, key)


def _check_tags(value: Any) -> _Problems:
    if not isinstance(value, dict):
        yield "tags", f"must be a mapping of names to text values, got {_kind(value)}"
        return
    for name, tag in value.items():
        if not isinstance(name, str):
            yield "tags", f"tag name {name!r} must be text"
        elif not isinstance(tag, str):
            # No coercion: `version: 1.10` would silently become "1.1".
            hint = "; put it in quotes to keep it as text" if _is_scalar(tag) else ""
            yield f"tags.{name}", f"must be text, got {_kind(tag)}{hint}"


def _check_response_format(value: Any) -> _Problems:
    if not isinstance(value, dict):
        yield "response_format", f"must be a mapping (a JSON Schema), got {_kind(value)}"
        return
    yield from _check_data(value, "response_format")


def _check_template(value: Any) -> _Problems:
    if isinstance(value, str):
        if not value.strip():
            yield "template", "is empty" if not value else "is only whitespace"
    elif isinstance(value, list):
        if not value:
            yield "template", "is an empty list; a chat template needs at least one message"
        for i, message in enumerate(value):
            yield from _check_message(message, f"template[{i}]")
    elif value is None:
        yield "template", "is empty"
    else:
        yield "template", f"must be text or a list of chat messages, got {_kind(value)}"


def _check_message(message: Any, key: str) -> _Problems:
    if not isinstance(message, dict):
        yield key, f"must be a mapping with 'role' and 'content', got {_kind(message)}"
        return
    if "role" not in message:
        yield f"{key}.role", "missing; every message needs a role such as 'system' or 'user'"
    elif not isinstance(message["role"], str):
        yield (
            f"{key}.role",
            f"must be text such as 'system' or 'user', got {_kind(message['role'])}",
        )
    elif not message["role"].strip():
        yield f"{key}.role", "is empty"
    if "content" not in message:
        yield f"{key}.content", "missing; every message needs content"
    elif not isinstance(message["content"], str):
        yield f"{key}.content", f"must be text, got {_kind(message['content'])}"
    for name, value in message.items():
        if name not in ("role", "content"):  # other keys (`name`, …) travel untouched
            yield from _check_data(value, f"{key}.{name}")


_CHECKS = {
    "description": _check_description,
    "model_config": _check_model_config,
    "tags": _check_tags,
    "response_format": _check_response_format,
    "template": _check_template,
}

_SCALARS = (str, bool, int, float, bytes, datetime.date, type(None))  # datetime is a date


def _check_data(value: Any, key: str) -> _Problems:
    """Free-form values (extras, JSON Schemas) must be data a prompt file can hold."""
    if isinstance(value, dict):
        for name, item in value.items():
            if not _is_scalar(name):
                yield (
                    key,
                    f"has a key of type {type(name).__name__}, which a prompt file cannot store",
                )
            yield from _check_data(item, f"{key}.{name}")
    elif isinstance(value, (list, set)):
        for i, item in enumerate(value):
            yield from _check_data(item, f"{key}[{i}]")
    elif not _is_scalar(value):
        yield key, f"holds a {type(value).__name__}, which a prompt file cannot store"


def _is_scalar(value: Any) -> bool:
    return isinstance(value, _SCALARS)


def _is_number(value: Any) -> bool:
    """int or float, but not bool, NaN or infinity."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return isinstance(value, int) or math.isfinite(value)


def _kind(value: Any) -> str:
    """How an error names a wrong value: its YAML type, and the value when short."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value!r})"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"text ({shown!r})" if value else "empty text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


# --- writing ---------------------------------------------------------------------------

# Strings a literal block holds exactly *and* that survive editors and pre-commit hooks:
# printable characters, tab and "\n" only (YAML folds "\r", NEL, LS and PS into "\n"),
# and no whitespace at the end of a line (trailing-whitespace fixers would strip it).
_NOT_LITERAL_CHAR = re.compile(
    "[^\t\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
_TRAILING_SPACE = re.compile(r"[^\S\n](?:\n|\Z)")
_LINE_BREAKS = re.compile("[\n\r\x85\u2028\u2029]")


def _literal_ok(text: str) -> bool:
    return bool(text) and not _NOT_LITERAL_CHAR.search(text) and not _TRAILING_SPACE.search(text)


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
        # Indent lists under their key, as SPEC §2 shows and yamllint's default expects.
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
    if yaml.load(text, Loader=_Loader) != data:  # _Loader is a safe loader
        text = _dump(data, _PlainDumper)
    return text
