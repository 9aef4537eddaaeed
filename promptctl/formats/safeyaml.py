"""YAML read within the bounds of :mod:`.bounded`: scanned before it is built, with a
safe loader that refuses duplicate keys.

YAML is scanned as a stream of parser events before anything is built: the scan holds
one counter per open mapping or list, so it cannot recurse or blow up whatever the
input, and an alias that names the value containing it (``&r {a: *r}``) is refused
there. Only then is the document composed and constructed, with a safe loader that
refuses duplicate keys and turns every constructor failure (``!!int x``, ``2024-13-45``)
into a YAML error with a line number.

Apart from :mod:`.bounded` because importing PyYAML costs ~10 ms: a command that reads
only files in the plain form (:mod:`.plainyaml`) never imports this module.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from ..errors import InvalidFile
from .bounded import MAX_DEPTH, MAX_FILE_BYTES, MAX_TEXT, MAX_VALUES, text_size_problem

try:  # libyaml's parser: parsing is on the hot path of every load
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]


class StrictLoader(_BaseLoader):
    """The safe loader, refusing duplicate keys and reporting bad tagged values as YAML errors.

    PyYAML would silently keep the last of two equal keys, so a second ``template:``
    would hide the first (yamllint and check-yaml refuse them too). Its constructors
    raise ``ValueError``, ``KeyError`` … for ``!!int x`` or ``!!bool maybe``; here they
    are a :class:`yaml.constructor.ConstructorError` marked with the value's line.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, yaml.MappingNode):  # `!!set [1]`, `!!omap x` …
            raise yaml.constructor.ConstructorError(
                None, None, f"expected a mapping for {_tag_name(node.tag)}", node.start_mark
            )
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

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError, IndexError,
                OverflowError) as exc:
            shown = node.value if isinstance(node.value, str) else ""
            what = f" {shown[:40]!r}" if shown else ""
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read{what} as {_tag_name(node.tag)}", node.start_mark
            ) from exc


def _tag_name(tag: str | None) -> str:
    """``tag:yaml.org,2002:int`` as ``!!int``."""
    if tag and tag.startswith("tag:yaml.org,2002:"):
        return "!!" + tag.rpartition(":")[2]
    return tag or "a value"


def yaml_limit_problem(text: str) -> str | None:
    """What makes ``text`` too big or too deep to build, or ``None`` when it is within bounds.

    Raises :class:`yaml.YAMLError` when the text does not parse.
    """
    parser = _BaseLoader(text)
    try:
        return _scan(parser)
    finally:
        parser.dispose()


def _scan(parser: Any) -> str | None:
    values = chars = depth = 0
    # One frame per open mapping or list: its anchor, the counts when it opened, and the
    # deepest level reached inside it (what an alias to it adds to the depth).
    frames: list[list[Any]] = []
    anchors: dict[str, tuple[int, int, int]] = {}  # anchor -> values, chars, levels
    open_anchors: set[str] = set()
    while True:
        event = parser.get_event()
        if event is None or isinstance(event, yaml.StreamEndEvent):
            return None
        if isinstance(event, yaml.ScalarEvent):
            values += 1
            chars += len(event.value)
            if event.anchor is not None:
                anchors[event.anchor] = (1, len(event.value), 0)
        elif isinstance(event, yaml.CollectionStartEvent):
            values += 1
            depth += 1
            if depth > MAX_DEPTH:
                return _depth_problem(event)
            frames.append([event.anchor, values - 1, chars, depth, depth])
            if event.anchor is not None:
                open_anchors.add(event.anchor)
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, values_before, chars_before, level, deepest = frames.pop()
            if anchor is not None:
                open_anchors.discard(anchor)
                anchors[anchor] = (values - values_before, chars - chars_before,
                                   deepest - level + 1)
            if frames:
                frames[-1][4] = max(frames[-1][4], deepest)
            depth -= 1
        elif isinstance(event, yaml.AliasEvent):
            alias = event.anchor or ""
            if alias in open_anchors:
                line = event.start_mark.line + 1 if event.start_mark else 0
                return (f"not valid YAML at line {line}: the alias *{alias} is used "
                        "inside the value it names (a recursive alias)")
            named = anchors.get(alias)
            if named is None:
                continue  # an undefined alias: composing reports it, with its line
            values += named[0]
            chars += named[1]
            if depth + named[2] > MAX_DEPTH:
                return _depth_problem(event)
            if frames:
                frames[-1][4] = max(frames[-1][4], depth + named[2])
        else:
            continue
        if values > MAX_VALUES:
            return (f"expands to more than {MAX_VALUES:,} values (limit {MAX_VALUES:,}, "
                    "counting a YAML alias each time it is used)")
        if chars > MAX_TEXT:
            return (f"expands to more than {MAX_TEXT:,} characters of text (limit "
                    f"{MAX_TEXT:,}, counting a YAML alias each time it is used)")


def _depth_problem(event: yaml.Event) -> str:
    line = f" at line {event.start_mark.line + 1}" if event.start_mark else ""
    return f"nests more than {MAX_DEPTH} levels deep{line} (limit {MAX_DEPTH})"


def describe_yaml_error(exc: yaml.YAMLError, text: str) -> str:
    """One line saying where and why YAML text does not parse."""
    if not isinstance(exc, yaml.MarkedYAMLError):  # a ReaderError: a character YAML refuses
        bad = re.search(
            r"[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]", text
        )
        where = f" at line {text.count(chr(10), 0, bad.start()) + 1}" if bad else ""
        char = f" U+{ord(bad.group()):04X}" if bad else ""
        return f"not valid YAML{where}: control character{char} is not allowed"
    mark = exc.problem_mark or exc.context_mark
    what = " ".join(str(exc.problem or exc.context or "cannot be parsed").split())
    if mark is None:
        return f"not valid YAML: {what}"
    message = f"not valid YAML at line {mark.line + 1}, column {mark.column + 1}: {what}"
    lines = text.splitlines()
    if mark.line < len(lines) and re.search(r"(^|[:-])\s*\{\{", lines[mark.line]):
        # The most common slip: `content: {{question}}` reads as a YAML flow mapping.
        message += ' (a value that starts with "{" must be quoted: "{{ name }}")'
    return message


def load_yaml(text: str, source: str, error: type[InvalidFile],
              loader: type[StrictLoader] = StrictLoader) -> Any:
    """Parse YAML text within the limits above; every failure raises ``error`` naming ``source``."""
    if problem := text_size_problem(text, MAX_FILE_BYTES):
        raise error(source, None, problem)
    try:
        if problem := yaml_limit_problem(text):
            raise error(source, None, problem)
        return yaml.load(text, Loader=loader)  # a safe loader
    except yaml.YAMLError as exc:
        raise error(source, None, describe_yaml_error(exc, text)) from exc
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError) as exc:
        # A constructor that fails after StrictLoader.construct_object returned (PyYAML
        # fills mappings and lists later, from generators); there is no line to name.
        detail = " ".join(str(exc).split())
        raise error(source, None, f"not valid YAML: a value cannot be read ({detail})") from exc
    except RecursionError as exc:  # pragma: no cover - the scan bounds the depth first
        raise error(source, None, f"nests too deeply (limit {MAX_DEPTH})") from exc
