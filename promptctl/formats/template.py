"""Prompt templates: find variables, format, partial format, single-brace conversion.

A template is either text or a list of chat messages (dicts with ``role`` and
``content``, plus any other keys, which are kept as they are). Variables are written
``{{ name }}``: whitespace inside the braces is allowed and a name is an ASCII
identifier with optional dotted parts (``{{ user.name }}``). Anything else between
braces - JSON, single braces, ``{{ 1x }}`` - is literal text and is never touched.

Everything here is a pure function on plain values: no Git, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, TypeAlias, overload

from ..errors import InvalidInput, MissingVariables

Template: TypeAlias = str | list[dict[str, Any]]
"""Text (``str``) or chat messages (``list`` of dicts with ``role`` and ``content``)."""

_NAME = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
# re.ASCII keeps ``\s`` to ASCII whitespace, so an exotic Unicode space inside the braces
# does not silently turn text into a variable.
_VARIABLE = re.compile(r"\{\{\s*(" + _NAME + r")\s*\}\}", re.ASCII)
# For to_single_brace: a variable, or else one literal brace. Trying the variable first
# at every position makes this scan find exactly the variables _VARIABLE.sub finds, so
# the converted template formats to the same result.
_VARIABLE_OR_BRACE = re.compile(_VARIABLE.pattern + r"|[{}]", re.ASCII)

# What was probably meant as a variable but is not one: braces that do not pair up
# (``{{ name }``, ``{ name }}``, ``{name}``), or double braces around something that is not
# a name (``{{ user-name }}``, ``{{ 1st }}``).
_ODD_BRACES = re.compile(r"(?<!\{)(\{\{?)[ \t]*(" + _NAME + r")[ \t]*(\}\}?)(?!\})", re.ASCII)
_NOT_A_NAME = re.compile(r"(?<!\{)\{\{[ \t]*([A-Za-z0-9_][A-Za-z0-9_.\- ]*?)[ \t]*\}\}(?!\})",
                         re.ASCII)

_MISSING: Any = object()


class NearVariable(NamedTuple):
    """Text that looks like a variable but stays literal: ``text`` as written, and a hint."""

    text: str
    hint: str


def find_near_variables(text: str) -> tuple[NearVariable, ...]:
    """Every near-variable in ``text``, in order: ``{{ name }``, ``{name}``, ``{{ user-name }}``.

    These are literal text by the rules above; ``promptctl check`` warns about them.
    A real variable is never reported.
    """
    if "{" not in text:
        return ()
    found: list[tuple[int, NearVariable]] = []
    for match in _ODD_BRACES.finditer(text):
        if match.group(1) == "{{" and match.group(3) == "}}":
            continue  # a real variable
        hint = f"write {{{{ {match.group(2)} }}}} for a variable"
        found.append((match.start(), NearVariable(match.group(0), hint)))
    for match in _NOT_A_NAME.finditer(text):
        if not _VARIABLE.fullmatch(match.group(0)):
            hint = "a variable name is letters, digits and '_', not starting with a digit"
            found.append((match.start(), NearVariable(match.group(0), hint)))
    return tuple(near for _, near in sorted(found, key=lambda item: item[0]))


def find_variables(template: Template) -> tuple[str, ...]:
    """Return the variable names ``template`` uses, each once, in order of first use.

    For a chat template the messages' contents are read in order.
    """
    if isinstance(template, str):
        return tuple(dict.fromkeys(_VARIABLE.findall(template)))
    found: dict[str, None] = {}
    for content in _contents(template):
        found.update(dict.fromkeys(_VARIABLE.findall(content)))
    return tuple(found)


@overload
def format_template(
    template: str, values: Mapping[str, Any], *, allow_partial: bool = False
) -> str: ...
@overload
def format_template(
    template: list[dict[str, Any]], values: Mapping[str, Any], *, allow_partial: bool = False
) -> list[dict[str, Any]]: ...
def format_template(
    template: Template, values: Mapping[str, Any], *, allow_partial: bool = False
) -> Template:
    """Return ``template`` with every variable replaced by ``str()`` of its value.

    Substitution is one pass: a value that itself contains ``{{ x }}`` is inserted as
    is. Values the template does not use are ignored. A dotted name ``a.b`` is looked up
    as the key ``"a.b"`` first, then as ``values["a"]`` followed by ``["b"]`` (mappings)
    or attribute ``b`` (other objects).

    :raises MissingVariables: naming every variable without a value, unless
        ``allow_partial`` is true, in which case those are left as they were written.
    :raises InvalidInput: if ``template`` is neither text nor a list of chat messages.

    A chat template gives a new list of new message dicts; the input is not modified.
    """
    missing: dict[str, None] = {}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        value = _lookup(values, name)
        if value is _MISSING:
            missing[name] = None
            return match.group(0)
        return str(value)

    result: Template
    if isinstance(template, str):
        result = _substitute(template, replace)
    else:
        _check_chat(template)
        result = [
            {**message, "content": _substitute(message["content"], replace)}
            for message in template
        ]
    # Raise only after every message has been scanned, so the error names them all.
    if missing and not allow_partial:
        raise MissingVariables(missing)
    return result


@overload
def to_single_brace(template: str) -> str: ...
@overload
def to_single_brace(template: list[dict[str, Any]]) -> list[dict[str, Any]]: ...
def to_single_brace(template: Template) -> Template:
    """Convert ``{{ name }}`` to ``{name}`` for ``str.format`` and LangChain-style tools.

    Every literal ``{`` and ``}`` is doubled, so ``to_single_brace(t).format(**values)``
    gives what ``format_template(t, values)`` gives. Dotted names become ``{a.b}``, which
    ``str.format`` reads as attribute access.
    """
    if isinstance(template, str):
        return _VARIABLE_OR_BRACE.sub(_single_brace, template)
    _check_chat(template)
    return [
        {**message, "content": _VARIABLE_OR_BRACE.sub(_single_brace, message["content"])}
        for message in template
    ]


def split_variables(text: str) -> list[str]:
    """``text`` cut at its variables: literal text and variable names, alternately, always
    starting and ending with text (``"Hi {{ name }}!"`` gives ``["Hi ", "name", "!"]``).

    Joining it with each name replaced by ``str()`` of its value is what
    :func:`format_template` gives when every value is there.
    """
    return _VARIABLE.split(text) if "{{" in text else [text]


def template_text(template: Template) -> str:
    """Return the template as one text, for search and diff.

    Text is returned as is; a chat template gives one ``role: content`` per message,
    joined by newlines.
    """
    if isinstance(template, str):
        return template
    _check_chat(template)
    return "\n".join(f"{message['role']}: {message['content']}" for message in template)


def _substitute(text: str, replace: Callable[[re.Match[str]], str]) -> str:
    # Most texts in a chat (system messages especially) have no variable at all; the
    # substring test is far cheaper than a regex scan.
    if "{{" not in text:
        return text
    return _VARIABLE.sub(replace, text)


def _single_brace(match: re.Match[str]) -> str:
    name = match.group(1)
    if name is not None:
        return "{" + name + "}"
    return match.group(0) * 2


def _lookup(values: Mapping[str, Any], name: str) -> Any:
    """Return the value for ``name``, or ``_MISSING``."""
    value = values.get(name, _MISSING)
    if value is not _MISSING or "." not in name:
        return value
    first, *rest = name.split(".")
    value = values.get(first, _MISSING)
    for part in rest:
        if value is _MISSING:
            break
        if isinstance(value, Mapping):
            value = value.get(part, _MISSING)
        elif part.startswith("_"):
            # Templates come from a repository anyone with push access edits; walking
            # into dunders ({{ x.__init__.__globals__ }}) could leak the process's
            # secrets into a prompt, the classic str.format attack.
            value = _MISSING
        else:
            value = getattr(value, part, _MISSING)
    return value


def _contents(template: list[dict[str, Any]]) -> list[str]:
    _check_chat(template)
    return [message["content"] for message in template]


def _check_chat(template: object) -> None:
    """Raise :class:`InvalidInput` unless ``template`` is a list of chat messages."""
    # Prompt files are validated when loaded; this guards callers of the Python API who
    # pass a template straight in, so they get our error rather than a TypeError.
    if not isinstance(template, list):
        raise InvalidInput(
            f"a template must be text or a list of chat messages, not {type(template).__name__}"
        )
    for index, message in enumerate(template, start=1):
        if not isinstance(message, dict):
            raise InvalidInput(f"chat message {index} is not a mapping")
        for key in ("role", "content"):
            if not isinstance(message.get(key), str):
                raise InvalidInput(f"chat message {index} has no text {key!r}")
