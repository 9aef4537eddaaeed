"""Search filters: parse a filter once into a predicate, then test many prompts fast.

The grammar is MLflow's, plus a few fields and operators::

    filter     := or_expr | (empty: matches everything)
    or_expr    := and_expr ("OR" and_expr)*
    and_expr   := not_expr ("AND" not_expr)*
    not_expr   := "NOT" not_expr | "(" or_expr ")" | comparison
    comparison := FIELD OP VALUE

    FIELD := name | tags.<key> | tags.`<key>` | alias | model_config.<key> | template
             | description
    OP    := = | != | LIKE | ILIKE | NOT LIKE | NOT ILIKE | < | <= | > | >=
    VALUE := 'text' | "text" | number

Keywords (``AND``, ``OR``, ``NOT``, ``LIKE``, ``ILIKE``) are case-insensitive; field names
and keys are not. Inside a quoted value a doubled quote or a backslash escapes the next
character (``'it''s'`` and ``'it\\'s'`` both read ``it's``). A key after ``tags.`` or
``model_config.`` runs up to whitespace, a parenthesis, a quote or an operator character,
and is taken literally (``model_config.a.b`` looks up the key ``a.b``); backquote it for
anything else, doubling a backquote inside.

``LIKE`` is SQL's: ``%`` matches any run of characters (newlines too), ``_`` exactly one,
everything else itself, case-sensitively; there is no escape for a literal ``%`` or ``_``.
``ILIKE`` is the same, ignoring case.

Every negative operator (``!=``, ``NOT LIKE``, ``NOT ILIKE``) is exactly ``NOT`` of its
positive form, so a record without the field matches it: ``tags.team != 'x'`` is true
for a prompt with no ``team`` tag, and ``alias != 'production'`` is true for a prompt
that has no alias ``production`` (whatever other aliases it has). ``alias = …`` and
``alias LIKE …`` are true when any of the prompt's aliases matches.

Numbers are allowed only with ``model_config.<key>``. ``<``, ``<=``, ``>``, ``>=`` need a
number, and ``=``/``!=`` with a number compare numerically; a value that is not an int
or float (a string, a bool, a missing key) never compares true. With a quoted value, a
``model_config`` value is compared as ``str(value)``.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import InvalidFilter

__all__ = ["Predicate", "SearchRecord", "parse_filter", "reads_aliases"]


class SearchRecord(Protocol):
    """What a filter looks at: one prompt version, reduced to the fields it can test.

    Read-only properties, so that frozen dataclasses satisfy the protocol.
    """

    @property
    def name(self) -> str: ...
    @property
    def tags(self) -> Mapping[str, str]: ...
    @property
    def aliases(self) -> Collection[str]: ...
    @property
    def model_config(self) -> Mapping[str, Any]: ...
    @property
    def template_text(self) -> str: ...  # a chat template's messages already joined
    @property
    def description(self) -> str | None: ...


Predicate = Callable[[SearchRecord], bool]
"""A compiled filter: true for the records it selects."""

# How deep parentheses and NOTs may nest: far more than anyone writes, and well inside
# Python's recursion limit both for the parser and for the nested closures it builds.
MAX_DEPTH = 100

_FIELDS_HINT = "use name, tags.<key>, alias, model_config.<key>, template, description"
_OPERATORS_HINT = "use =, !=, <, <=, >, >=, LIKE, ILIKE, NOT LIKE or NOT ILIKE"
_KEYWORDS = frozenset({"AND", "OR", "NOT", "LIKE", "ILIKE"})
_PLAIN_FIELDS = {
    "name": "name",
    "alias": "aliases",
    "template": "template_text",
    "description": "description",
}
_KEYED_FIELDS = frozenset({"tags", "model_config"})
_SYMBOL_OPERATORS = frozenset({"=", "!=", "<", "<=", ">", ">="})
_ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_NUMBER_COMPARISONS = {**_ORDERINGS, "=": operator.eq}
_NEGATIONS = {"!=": "=", "NOT LIKE": "LIKE", "NOT ILIKE": "ILIKE"}

_NON_SPACE = re.compile(r"\S")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEY = re.compile(r"[^\s()'\"`=!<>~]+")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_OPERATOR = re.compile(r"[=!<>~]+")


def _always(record: SearchRecord) -> bool:
    return True


def parse_filter(text: str) -> Predicate:
    """Compile a search filter into a predicate over :class:`SearchRecord`.

    An empty or blank filter matches everything. Raises :class:`InvalidFilter`, whose
    ``position`` is the offset of the offending token, for anything malformed.
    """
    if not text.strip():
        return _always
    return _Parser(text).parse()


def reads_aliases(text: str) -> bool:
    """Whether the filter ``text`` tests ``alias``: if not, a search reads the aliases
    of the prompts it matched only, not every prompt's. True for a filter that does not
    lex (:func:`parse_filter` refuses it)."""
    lexer = _Lexer(text)
    try:
        token = lexer.next()
        while token.kind != "end":
            if token.kind == "word" and token.key is None and token.text == "alias":
                return True
            token = lexer.next()
    except InvalidFilter:
        return True
    return False


# -- tokens ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    """One token; ``kind`` is word, keyword, string, number, op, (, ) or end."""

    kind: str
    text: str  # as written; "" at the end
    pos: int
    keyword: str = ""  # a keyword, upper-cased
    string: str = ""  # a string's contents
    number: float = 0  # a number's value (an int when written as one)
    key: str | None = None  # a word's key after the dot; None without a dot
    key_pos: int = 0


class _Lexer:
    """Hands out tokens one at a time, so an error is met where the parser reaches it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, pos: int, reason: str) -> InvalidFilter:
        return InvalidFilter(self.text, pos, reason)

    def next(self) -> _Token:
        text = self.text
        found = _NON_SPACE.search(text, self.pos)
        if found is None:
            self.pos = len(text)
            return _Token("end", "", len(text))
        start = self.pos = found.start()
        char = text[start]
        if char in "()":
            self.pos = start + 1
            return _Token(char, char, start)
        if char in "'\"":
            return self._string(start)
        if number := _NUMBER.match(text, start):
            self.pos = number.end()
            return _Token("number", number.group(), start, number=_to_number(number.group()))
        if symbols := _OPERATOR.match(text, start):
            self.pos = symbols.end()
            return _Token("op", symbols.group(), start)
        if word := _WORD.match(text, start):
            return self._word(start, word.end())
        raise self.error(start, f"unexpected character {char!r}")

    def _string(self, start: int) -> _Token:
        text, quote = self.text, self.text[start]
        chars: list[str] = []
        i = start + 1
        while i < len(text):
            char = text[i]
            if char == "\\" and i + 1 < len(text):
                chars.append(text[i + 1])
                i += 2
            elif char == quote and text.startswith(quote, i + 1):
                chars.append(quote)
                i += 2
            elif char == quote:
                self.pos = i + 1
                return _Token("string", text[start : i + 1], start, string="".join(chars))
            else:
                chars.append(char)
                i += 1
        raise self.error(start, f"unterminated string: the {quote} is never closed")

    def _word(self, start: int, end: int) -> _Token:
        text = self.text
        if not text.startswith(".", end):
            self.pos = end
            word = text[start:end]
            if word.upper() in _KEYWORDS:
                return _Token("keyword", word, start, keyword=word.upper())
            return _Token("word", word, start)
        key_pos = end + 1
        if text.startswith("`", key_pos):
            key, self.pos = self._backquoted(key_pos)
        else:
            found = _KEY.match(text, key_pos)
            self.pos = found.end() if found else key_pos
            key = text[key_pos : self.pos]
        return _Token("word", text[start : self.pos], start, key=key, key_pos=key_pos)

    def _backquoted(self, start: int) -> tuple[str, int]:
        text = self.text
        chars: list[str] = []
        i = start + 1
        while i < len(text):
            if text[i] != "`":
                chars.append(text[i])
                i += 1
            elif text.startswith("`", i + 1):
                chars.append("`")
                i += 2
            else:
                return "".join(chars), i + 1
        raise self.error(start, "unterminated key: the ` is never closed")


def _to_number(literal: str) -> float:
    try:
        return int(literal)
    except ValueError:  # a fraction or exponent, or more digits than int() accepts
        return float(literal)


# -- parser ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Field:
    kind: str  # name, alias, template, description, tags or model_config
    key: str = ""


class _Parser:
    """Recursive descent over the grammar in the module docstring, building closures."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lexer = _Lexer(text)
        self.token = self.lexer.next()
        self.depth = 0

    def error(self, pos: int, reason: str) -> InvalidFilter:
        return InvalidFilter(self.text, pos, reason)

    def advance(self) -> _Token:
        token = self.token
        self.token = self.lexer.next()
        return token

    def at_keyword(self, keyword: str) -> bool:
        return self.token.keyword == keyword

    def parse(self) -> Predicate:
        predicate = self.parse_or()
        token = self.token
        if token.kind == ")":
            raise self.error(token.pos, "unbalanced parenthesis: this ')' has no matching '('")
        if token.kind != "end":
            raise self.error(
                token.pos,
                f"unexpected {token.text!r} after a complete condition "
                "(join conditions with AND or OR)",
            )
        return predicate

    def parse_or(self) -> Predicate:
        predicates = [self.parse_and()]
        while self.at_keyword("OR"):
            self.advance()
            predicates.append(self.parse_and())
        return _any_of(predicates)

    def parse_and(self) -> Predicate:
        predicates = [self.parse_not()]
        while self.at_keyword("AND"):
            self.advance()
            predicates.append(self.parse_not())
        return _all_of(predicates)

    def parse_not(self) -> Predicate:
        token = self.token
        if self.at_keyword("NOT"):
            self.enter(token)
            self.advance()
            inner = self.parse_not()
            self.depth -= 1
            return lambda record: not inner(record)
        if token.kind == "(":
            self.enter(token)
            self.advance()
            inner = self.parse_or()
            if self.token.kind == "end":
                raise self.error(token.pos, "unbalanced parenthesis: this '(' is never closed")
            if self.token.kind != ")":
                raise self.error(
                    self.token.pos, f"expected AND, OR or ')' before {self.token.text!r}"
                )
            self.advance()
            self.depth -= 1
            return inner
        return self.parse_comparison()

    def enter(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(token.pos, f"nested more than {MAX_DEPTH} levels deep")

    def parse_comparison(self) -> Predicate:
        field_token = self.token
        field = self.parse_field()
        op_token = self.token
        op = self.parse_operator(field_token)
        value_token = self.token
        if value_token.kind == "string":
            value: str | float = value_token.string
        elif value_token.kind == "number":
            value = value_token.number
        elif value_token.kind == "word":
            raise self.error(
                value_token.pos, f"unquoted value {value_token.text!r} (put text in quotes)"
            )
        else:
            raise self.error(value_token.pos, f"missing value after {op_token.text!r}")
        self.advance()
        self.check_types(field, op, op_token, value, value_token)
        return _compile(field, op, value)

    def parse_field(self) -> _Field:
        token = self.token
        if token.kind == "end":
            raise self.error(
                token.pos, "unexpected end of filter: expected a condition such as name = 'x'"
            )
        if token.kind != "word":
            raise self.error(token.pos, f"expected a field, got {token.text!r} ({_FIELDS_HINT})")
        self.advance()
        head = token.text.partition(".")[0]
        if token.key is None and head in _PLAIN_FIELDS:
            return _Field(head)
        if head in _KEYED_FIELDS:
            if token.key is None:
                raise self.error(token.pos, f"{head} needs a key: {head}.<key>")
            if not token.key:
                raise self.error(token.key_pos, f"missing key after '{head}.'")
            return _Field(head, token.key)
        raise self.error(token.pos, f"unknown field {token.text!r} ({_FIELDS_HINT})")

    def parse_operator(self, field_token: _Token) -> str:
        token = self.token
        if token.kind == "op" and token.text in _SYMBOL_OPERATORS:
            self.advance()
            return token.text
        if token.keyword in ("LIKE", "ILIKE"):
            self.advance()
            return token.keyword
        if token.keyword == "NOT":
            self.advance()
            if self.token.keyword in ("LIKE", "ILIKE"):
                return "NOT " + self.advance().keyword
            raise self.error(self.token.pos, "expected LIKE or ILIKE after NOT")
        if token.kind in ("op", "word"):
            raise self.error(token.pos, f"unknown operator {token.text!r} ({_OPERATORS_HINT})")
        raise self.error(token.pos, f"missing operator after {field_token.text!r}")

    def check_types(
        self, field: _Field, op: str, op_token: _Token, value: str | float, value_token: _Token
    ) -> None:
        is_number = value_token.kind == "number"
        if op in _ORDERINGS:
            if field.kind != "model_config":
                raise self.error(
                    op_token.pos, f"{op!r} compares numbers: use it with model_config.<key>"
                )
            if not is_number:
                raise self.error(value_token.pos, f"{op!r} needs a number, got a string")
        elif "LIKE" in op:
            if is_number:
                raise self.error(value_token.pos, f"{op} needs a quoted pattern, got a number")
        elif is_number and field.kind != "model_config":
            raise self.error(
                value_token.pos, f"{field.kind} holds text: put {value_token.text} in quotes"
            )


# -- compiling ------------------------------------------------------------------------------


def _all_of(predicates: list[Predicate]) -> Predicate:
    if len(predicates) == 1:
        return predicates[0]
    if len(predicates) == 2:
        first, second = predicates
        return lambda record: first(record) and second(record)
    parts = tuple(predicates)
    # A flat loop, not nested pairs: a long chain of ANDs must not nest closures deeply.
    return lambda record: all(part(record) for part in parts)


def _any_of(predicates: list[Predicate]) -> Predicate:
    if len(predicates) == 1:
        return predicates[0]
    if len(predicates) == 2:
        first, second = predicates
        return lambda record: first(record) or second(record)
    parts = tuple(predicates)
    return lambda record: any(part(record) for part in parts)


def _compile(field: _Field, op: str, value: str | float) -> Predicate:
    if op in _NEGATIONS:
        positive = _compile(field, _NEGATIONS[op], value)
        return lambda record: not positive(record)
    if isinstance(value, str) and "LIKE" in op:
        matches = _like_matcher(value, ignore_case=op == "ILIKE")
        if field.kind == "alias":
            return lambda record: any(matches(alias) for alias in record.aliases)
        read = _text_reader(field)

        def like(record: SearchRecord) -> bool:
            text = read(record)
            return text is not None and matches(text)

        return like
    if field.kind == "alias":
        return lambda record: value in record.aliases
    if not isinstance(value, str):
        return _compile_number(field.key, op, value)
    if field.kind == "tags":
        key = field.key  # the workload of a search: keep it to one closure
        return lambda record: record.tags.get(key) == value
    read = _text_reader(field)
    return lambda record: read(record) == value


def _compile_number(key: str, op: str, number: float) -> Predicate:
    compare = _NUMBER_COMPARISONS[op]

    def compare_number(record: SearchRecord) -> bool:
        actual = record.model_config.get(key)
        # bool is an int to Python, but `stream: true` is not the number 1 to a user.
        return (
            isinstance(actual, (int, float))
            and not isinstance(actual, bool)
            and compare(actual, number)
        )

    return compare_number


def _text_reader(field: _Field) -> Callable[[SearchRecord], str | None]:
    """How to read a field as text; None when the record does not have it."""
    key = field.key
    if field.kind == "tags":
        return lambda record: record.tags.get(key)
    if field.kind == "model_config":

        def read_config(record: SearchRecord) -> str | None:
            value = record.model_config.get(key)
            return None if value is None else str(value)

        return read_config
    return operator.attrgetter(_PLAIN_FIELDS[field.kind])


def _like_matcher(pattern: str, *, ignore_case: bool) -> Callable[[str], bool]:
    """Translate a LIKE pattern, once, into a function that tests a string.

    Not one regex with ``.*`` for each ``%``: ``'%a%a%a%b'`` would backtrack for minutes
    over a long template. The pattern splits at ``%`` into pieces of fixed length (``_``
    is one character); the first must match at the start, the last at the end, and each
    one between is searched for after the one before, where the leftmost match is always
    the best one to take.
    """
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)

    def compile_piece(piece: str) -> re.Pattern[str]:
        return re.compile("".join("." if c == "_" else re.escape(c) for c in piece), flags)

    if "%" not in pattern:
        whole = compile_piece(pattern)
        return lambda text: whole.fullmatch(text) is not None
    first, *middle, last = [compile_piece(piece) for piece in pattern.split("%")]
    between = tuple(piece.search for piece in middle if piece.pattern)
    last_length = len(pattern) - 1 - pattern.rindex("%")
    if not first.pattern and not last_length and len(between) == 1:
        search = between[0]  # '%refund%', the common case: one scan
        return lambda text: search(text) is not None

    def like(text: str) -> bool:
        found = first.match(text)
        if found is None:
            return False
        pos = found.end()
        for search in between:
            found = search(text, pos)
            if found is None:
                return False
            pos = found.end()
        end = len(text) - last_length
        return end >= pos and last.fullmatch(text, end) is not None

    return like
