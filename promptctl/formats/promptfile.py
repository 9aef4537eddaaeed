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

import datetime
import functools
import math
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..errors import InvalidPromptFile
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

_Loader = StrictLoader  # the safe loader, refusing duplicate keys (see formats.bounded)


def _load(text: str, source: str) -> Any:
    """Parse YAML text within the bounds of :mod:`.bounded`; any failure is InvalidPromptFile."""
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
    for key, problem in _problems(data):
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
    a committed version is read: a chat role that is not one of :data:`CHAT_ROLES`, a
    ``model_config`` key that looks like a misspelt known setting.
    """
    try:
        data = _load(text, source)
    except InvalidPromptFile as exc:
        return [exc]
    found = _problems(data, slips)
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
    for key, problem in _problems(data, slips=True):
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


# --- schema checks ---------------------------------------------------------------------

_Problems = Iterator[tuple[str | None, str]]


def _problems(data: Any, slips: bool = False) -> _Problems:
    """Yield ``(key, problem)`` for everything wrong with a loaded file, in file order.

    ``slips`` adds the checks of new content only (see :func:`find_problems`).
    """
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
            yield from check(value, slips)
    if "template" not in data:
        yield "template", "missing; every prompt needs a template"


def _unknown_key(key: Any) -> str:
    import difflib  # only for a file with a mistake: a load of a good one does not pay for it

    problem = "unknown key; allowed keys are " + ", ".join(TOP_LEVEL_KEYS)
    close = difflib.get_close_matches(str(key), TOP_LEVEL_KEYS, n=1)
    return problem + (f" (did you mean '{close[0]}'?)" if close else "")


def _check_description(value: Any, slips: bool) -> _Problems:
    if not isinstance(value, str):
        yield "description", f"must be text, got {_kind(value)}"


def _check_model_config(value: Any, slips: bool) -> _Problems:
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
                # `model_name: 1106` reads as a number, as an unquoted tag value would.
                hint = "; put it in quotes to keep it as text" if _is_scalar(setting) else ""
                yield key, f"must be text, got {_kind(setting)}{hint}"
        else:
            if slips and (known := _close_setting(name)):
                yield key, (f"unknown setting; did you mean '{known}'? (a key this close to "
                            "a known setting is taken for a typo; other keys are kept as extras)")
                continue
            yield from _check_data(setting, key)


def _check_tags(value: Any, slips: bool) -> _Problems:
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


def _check_response_format(value: Any, slips: bool) -> _Problems:
    if not isinstance(value, dict):
        yield "response_format", f"must be a mapping (a JSON Schema), got {_kind(value)}"
        return
    yield from _check_data(value, "response_format")


def _check_template(value: Any, slips: bool) -> _Problems:
    if isinstance(value, str):
        if not value.strip():
            yield "template", "is empty" if not value else "is only whitespace"
    elif isinstance(value, list):
        if not value:
            yield "template", "is an empty list; a chat template needs at least one message"
        for i, message in enumerate(value):
            yield from _check_message(message, f"template[{i}]", slips)
    elif value is None:
        yield "template", "is empty"
    else:
        yield "template", f"must be text or a list of chat messages, got {_kind(value)}"


def _check_message(message: Any, key: str, slips: bool) -> _Problems:
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
    elif slips and message["role"] not in CHAT_ROLES:
        yield f"{key}.role", _unknown_role(message["role"])
    if "content" not in message:
        yield f"{key}.content", "missing; every message needs content"
    elif not isinstance(message["content"], str):
        yield f"{key}.content", f"must be text, got {_kind(message['content'])}"
    for name, value in message.items():
        if name not in ("role", "content"):  # other keys (`name`, …) travel untouched
            yield from _check_data(value, f"{key}.{name}")


CHAT_ROLES: tuple[str, ...] = ("system", "user", "assistant", "tool", "developer", "function")
"""The roles a chat message may have when it is written or checked (OpenAI's, MLflow's)."""

# Other tools' words for the same roles (LangChain's "human" and "ai", Gemini's "model").
_ROLE_SYNONYMS = {"human": "user", "ai": "assistant", "model": "assistant", "bot": "assistant"}


def _unknown_role(role: str) -> str:
    import difflib

    close = _ROLE_SYNONYMS.get(role.lower()) or next(
        iter(difflib.get_close_matches(role.lower(), CHAT_ROLES, n=1, cutoff=0.6)), None
    )
    problem = f"unknown role {role!r}"
    if close:
        return f"{problem}; did you mean '{close}'?"
    return problem + " (use one of " + ", ".join(CHAT_ROLES) + ")"


def _close_setting(name: str) -> str | None:
    """The known setting ``name`` is probably a misspelling of, or ``None``.

    Names are compared ignoring case, ``_`` and ``-`` (so ``maxTokens`` and ``top-p``
    are caught), then by edit distance: one edit for short names, two from eight
    characters on. Short extras (``seed``, ``n``, OpenRouter's ``top_a``) stay extras.
    """
    folded = _fold(name)
    best: str | None = None
    for known in MODEL_CONFIG_FIELDS:
        target = _fold(known)
        if folded == target:
            return known
        if len(folded) < 5 or best is not None:
            continue
        allowed = 2 if len(target) >= 8 else 1
        if _edit_distance(folded, target, allowed) <= allowed:
            best = known
    return best


def _fold(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance with transpositions, or ``limit + 1`` once it is beyond ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] | None = None
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + (ca != cb))
            if before is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        before, row = row, current
    return row[-1]


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
