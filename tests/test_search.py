"""Tests for promptctl.formats.search_filter: the filter grammar, its errors and its semantics."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from promptctl.errors import EXIT_USAGE, InvalidFilter
from promptctl.formats.search_filter import (
    MAX_DEPTH,
    SearchRecord,
    parse_filter,
    reads_aliases,
)


@dataclass(frozen=True)
class Record:
    """A prompt version as a filter sees it; frozen, like the registry's values."""

    name: str = "summarize"
    tags: Mapping[str, str] = field(default_factory=dict)
    aliases: frozenset[str] = frozenset()
    model_config: Mapping[str, Any] = field(default_factory=dict)
    template_text: str = ""
    description: str | None = None


RECORD = Record(
    name="support/refund-reply",
    tags={"team": "support", "lang": "en", "my key": "spaced", "odd`key": "tick"},
    aliases=frozenset({"production", "canary"}),
    model_config={
        "model_name": "gpt-4o",
        "temperature": 0.2,
        "max_tokens": 512,
        "stream": True,
        "stop": "0.5",
    },
    template_text="You handle refunds.\nCustomer: {{ question }}",
    description="Replies to refund requests",
)
BARE = Record(name="bare")  # no tags, aliases, model_config or description

# Every module-level record must satisfy the protocol; mypy checks this assignment.
_AS_PROTOCOL: SearchRecord = RECORD


def matches(text: str, record: Record = RECORD) -> bool:
    result = parse_filter(text)(record)
    assert isinstance(result, bool)
    return result


def quote(value: str, mark: str = "'") -> str:
    """Quote ``value`` for a filter: backslashes escaped, the quote mark doubled."""
    return mark + value.replace("\\", "\\\\").replace(mark, mark * 2) + mark


def like_reference(pattern: str, text: str) -> bool:
    """SQL LIKE by dynamic programming, with no regex involved."""

    @cache
    def match(i: int, j: int) -> bool:
        if i == len(pattern):
            return j == len(text)
        if pattern[i] == "%":
            return match(i + 1, j) or (j < len(text) and match(i, j + 1))
        return j < len(text) and pattern[i] in ("_", text[j]) and match(i + 1, j + 1)

    return match(0, 0)


# -- fields and operators -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name = 'support/refund-reply'", True),
        ("name = 'support'", False),
        ("name != 'support'", True),
        ("name LIKE 'support/%'", True),
        ("name LIKE 'Support/%'", False),
        ("name ILIKE 'SUPPORT/%'", True),
        ("name NOT LIKE 'support/%'", False),
        ("name NOT ILIKE 'SUPPORT/%'", False),
        ("tags.team = 'support'", True),
        ("tags.team = 'sales'", False),
        ("tags.team != 'sales'", True),
        ("tags.team LIKE 'sup%'", True),
        ("tags.`my key` = 'spaced'", True),
        ("tags.`odd``key` = 'tick'", True),
        ("alias = 'production'", True),
        ("alias = 'staging'", False),
        ("alias LIKE 'can%'", True),
        ("alias ILIKE 'PROD%'", True),
        ("alias != 'production'", False),
        ("alias != 'staging'", True),
        ("template LIKE '%refund%'", True),
        ("template LIKE 'refund%'", False),
        ("template ILIKE 'you handle%'", True),
        ("description = 'Replies to refund requests'", True),
        ("description LIKE '%refund%'", True),
        ("model_config.model_name = 'gpt-4o'", True),
        ("model_config.model_name LIKE 'gpt-%'", True),
        ("model_config.model_name != 'gpt-4o'", False),
    ],
)
def test_each_field_and_operator(text: str, expected: bool) -> None:
    assert matches(text) is expected


@pytest.mark.parametrize(
    "text",
    [
        "tags.team != 'support'",
        "tags.team NOT LIKE '%'",
        "alias != 'production'",
        "alias NOT LIKE '%'",
        "description != 'x'",
        "description NOT ILIKE '%'",
        "model_config.model_name != 'gpt-4o'",
        "model_config.temperature != 0.2",
    ],
)
def test_negative_operators_match_a_record_without_the_field(text: str) -> None:
    # Documented choice: a negative operator is exactly NOT of the positive one.
    assert matches(text, BARE) is True
    positive = text.replace("!=", "=").replace("NOT ", "")
    assert matches(positive, BARE) is False


def test_alias_matches_when_any_alias_matches() -> None:
    record = Record(aliases=frozenset({"a-1", "b-2"}))
    assert matches("alias = 'b-2'", record)
    assert matches("alias LIKE 'a%'", record)
    assert not matches("alias LIKE 'c%'", record)
    assert not matches("alias = 'b-2'", BARE)


def test_empty_filter_matches_everything() -> None:
    for text in ("", "   ", "\n\t"):
        assert matches(text, RECORD) and matches(text, BARE)


def test_keywords_are_case_insensitive() -> None:
    assert matches("name like 'support%' and not alias ilike 'x%' or name = 'x'")
    assert matches("tags.team Not Like 'sales'")


def test_field_names_are_case_sensitive() -> None:
    with pytest.raises(InvalidFilter) as info:
        parse_filter("Name = 'x'")
    assert info.value.position == 0
    assert "unknown field 'Name'" in info.value.reason


def test_key_runs_to_an_operator_or_space_and_may_contain_dots() -> None:
    record = Record(tags={"a.b": "1", "x-y/z": "2"}, model_config={"a.b": 3})
    assert matches("tags.a.b='1'", record)
    assert matches("tags.x-y/z = '2'", record)
    assert matches("model_config.a.b >= 3", record)


# -- model_config and numbers ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("model_config.temperature = 0.2", True),
        ("model_config.temperature = .2", True),
        ("model_config.temperature = 2e-1", True),
        ("model_config.temperature != 0.2", False),
        ("model_config.temperature < 0.5", True),
        ("model_config.temperature <= 0.2", True),
        ("model_config.temperature > 0.2", False),
        ("model_config.temperature >= 0.2", True),
        ("model_config.temperature > -1", True),
        ("model_config.max_tokens = 512", True),
        ("model_config.max_tokens = 512.0", True),
        ("model_config.max_tokens > +511", True),
        ("model_config.max_tokens < 512", False),
        ("model_config.temperature = '0.2'", True),  # a string literal compares str(value)
        ("model_config.max_tokens = '512'", True),
        ("model_config.max_tokens = '512.0'", False),
        ("model_config.stream = 'True'", True),
    ],
)
def test_model_config_comparisons(text: str, expected: bool) -> None:
    assert matches(text) is expected


@pytest.mark.parametrize(
    "text",
    [
        "model_config.stop < 1",  # the string "0.5" is not a number
        "model_config.stop = 0.5",
        "model_config.stream >= 1",  # a bool is not a number either
        "model_config.stream = 1",
        "model_config.model_name > 0",
        "model_config.missing < 1",
        "model_config.missing >= 0",
    ],
)
def test_numeric_comparison_with_a_non_number_is_false(text: str) -> None:
    assert matches(text) is False


def test_a_number_too_long_for_int_still_parses() -> None:
    assert matches("model_config.max_tokens < " + "9" * 5000) is True


# -- LIKE -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("a.c", "a.c", True),
        ("a.c", "abc", False),  # '.' is literal, not "any character"
        ("a*", "a*", True),
        ("a*", "aaa", False),
        ("(x)", "(x)", True),
        ("(x", "(x", True),  # an unbalanced regex group is just text
        ("[ab]", "a", False),
        ("[ab]", "[ab]", True),
        ("a+b?", "a+b?", True),
        ("^x$", "^x$", True),
        ("a|b", "a", False),
        ("\\\\d", "\\d", True),  # a backslash in the value is literal in the pattern
        ("x{2}", "xx", False),
        ("a_c", "abc", True),
        ("a_c", "ac", False),
        ("a%c", "ac", True),
        ("a%c", "a\nb\nc", True),  # % crosses newlines
        ("%%", "", True),
        ("", "", True),
        ("", "x", False),
        ("%", "anything", True),
        ("_%_", "x", False),
        ("%b%", "abc", True),
        ("%b", "abc", False),
        ("a%", "cab", False),
    ],
)
def test_like_treats_only_percent_and_underscore_as_special(
    pattern: str, text: str, expected: bool
) -> None:
    assert matches(f"name LIKE '{pattern}'", Record(name=text)) is expected


def test_like_is_case_sensitive_and_ilike_is_not() -> None:
    record = Record(name="Refund")
    assert not matches("name LIKE 'refund'", record)
    assert matches("name ILIKE 'rEFUND'", record)
    assert matches("name ILIKE 'r_f%D'", record)


def test_like_with_many_percents_does_not_backtrack_for_ever() -> None:
    # A regex of '.*a.*a…' takes minutes on this; the piecewise matcher takes microseconds.
    record = Record(template_text="a" * 20_000)
    assert matches("template LIKE '%a%a%a%a%a%a%b'", record) is False
    assert matches("template LIKE 'a%a_a%a%a%a'", record) is True


LIKE_CHARS = "ab%_.*()[]\\^$+?{}|\n"


@given(
    pattern=st.text(alphabet=LIKE_CHARS, max_size=8),
    text=st.text(alphabet=LIKE_CHARS, max_size=10),
)
def test_like_agrees_with_a_reference_implementation(pattern: str, text: str) -> None:
    record = Record(name=text)
    assert matches(f"name LIKE {quote(pattern)}", record) is like_reference(pattern, text)
    assert matches(f"name NOT LIKE {quote(pattern)}", record) is not like_reference(pattern, text)


@given(
    pattern=st.text(alphabet="aAbB%_.", max_size=6),
    text=st.text(alphabet="aAbB.", max_size=8),
)
def test_ilike_is_like_on_lowered_text(pattern: str, text: str) -> None:
    expected = like_reference(pattern.lower(), text.lower())
    assert matches(f"name ILIKE {quote(pattern)}", Record(name=text)) is expected


# -- quoting --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("'it''s'", "it's"),
        ("'it\\'s'", "it's"),
        ('"it\'s"', "it's"),
        ('"say ""hi"""', 'say "hi"'),
        ('"say \\"hi\\""', 'say "hi"'),
        ("'back\\\\slash'", "back\\slash"),
        ("'a\\nb'", "anb"),  # a backslash escapes any character to itself
        ("''", ""),
        ("'x AND y'", "x AND y"),
        ("'(paren'", "(paren"),
    ],
)
def test_quoted_values(literal: str, value: str) -> None:
    assert matches(f"name = {literal}", Record(name=value))
    assert not matches(f"name = {literal}", Record(name=value + "!"))


@given(value=st.text(max_size=20), mark=st.sampled_from(["'", '"']))
def test_any_string_round_trips_through_quoting(value: str, mark: str) -> None:
    assert matches(f"name = {quote(value, mark)}", Record(name=value))
    assert matches(f"tags.k != {quote(value, mark)}", Record(tags={"k": value})) is False


@given(key=st.text(min_size=1, max_size=12), value=st.text(max_size=5))
def test_any_tag_key_can_be_backquoted(key: str, value: str) -> None:
    text = f"tags.`{key.replace('`', '``')}` = {quote(value)}"
    assert matches(text, Record(tags={key: value}))
    assert not matches(text, Record(tags={key + "x": value}))


# -- AND, OR, NOT, parentheses --------------------------------------------------------------

T = "name = 'x'"  # true for X
F = "name = 'y'"  # false for X
X = Record(name="x")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"{T} OR {T} AND {F}", True),  # AND before OR: T or (T and F)
        (f"({T} OR {T}) AND {F}", False),
        (f"{F} AND {T} OR {T}", True),
        (f"{F} AND ({T} OR {T})", False),
        (f"NOT {T} AND {F}", False),  # NOT before AND: (not T) and F
        (f"NOT {F} AND {T}", True),
        (f"NOT ({F} AND {T})", True),
        (f"NOT {T} OR {T}", True),  # (not T) or T
        (f"NOT ({T} OR {T})", False),
        (f"NOT NOT {T}", True),
        (f"((({T})))", True),
        (f"{F} OR {F} OR {F} OR {T}", True),
        (f"{T} AND {T} AND {T} AND {F}", False),
    ],
)
def test_precedence_and_parentheses(text: str, expected: bool) -> None:
    assert matches(text, X) is expected


@st.composite
def boolean_expressions(draw: st.DrawFn, depth: int = 0) -> tuple[str, str]:
    """A random boolean expression in filter syntax and in Python syntax, unparenthesized
    except where drawn: Python's not/and/or bind exactly as the filter's NOT/AND/OR."""
    terms = draw(st.integers(1, 4 if depth < 3 else 1))
    filter_parts: list[str] = []
    python_parts: list[str] = []
    for index in range(terms):
        if index:
            op = draw(st.sampled_from(["AND", "OR", "and", "Or"]))
            filter_parts.append(op)
            python_parts.append(op.lower())
        nots = draw(st.integers(0, 2))
        filter_parts.extend(["NOT"] * nots)
        python_parts.extend(["not"] * nots)
        if depth < 3 and draw(st.booleans()):
            inner_filter, inner_python = draw(boolean_expressions(depth + 1))
            filter_parts.append(f"({inner_filter})")
            python_parts.append(f"({inner_python})")
        else:
            value = draw(st.booleans())
            filter_parts.append(T if value else F)
            python_parts.append(str(value))
    return " ".join(filter_parts), " ".join(python_parts)


@given(boolean_expressions())
def test_boolean_structure_agrees_with_python(expression: tuple[str, str]) -> None:
    filter_text, python_text = expression
    assert matches(filter_text, X) is eval(python_text)  # only our own True/False/and/or/not


def test_a_long_flat_chain_does_not_nest_deeply() -> None:
    text = " AND ".join([T] * 5000)
    assert matches(text, X) is True
    assert matches(text + f" AND {F}", X) is False
    assert matches(" OR ".join([F] * 5000) + f" OR {T}", X) is True


def test_nesting_up_to_the_limit_parses() -> None:
    depth = MAX_DEPTH // 2
    assert matches("NOT " * depth + "(" * depth + F + ")" * depth, X) is False


@pytest.mark.parametrize(
    ("prefix", "unit"),
    [("NOT " * (MAX_DEPTH + 50), "NOT "), ("(" * (MAX_DEPTH + 50), "(")],
)
def test_nesting_past_the_limit_is_an_error_not_a_crash(prefix: str, unit: str) -> None:
    with pytest.raises(InvalidFilter) as info:
        parse_filter(prefix + T)
    assert info.value.position == MAX_DEPTH * len(unit)
    assert "nested" in info.value.reason


# -- errors ---------------------------------------------------------------------------------

FIELDS_HINT = "(use name, tags.<key>, alias, model_config.<key>, template, description)"


@pytest.mark.parametrize(
    ("text", "position", "reason"),
    [
        # unknown field
        ("foo = 'x'", 0, f"unknown field 'foo' {FIELDS_HINT}"),
        ("name = 'x' AND tag.team = 'y'", 15, "unknown field 'tag.team'"),
        ("name.first = 'x'", 0, "unknown field 'name.first'"),
        ("tags = 'x'", 0, "tags needs a key"),
        ("tags. = 'x'", 5, "missing key after 'tags.'"),
        ("model_config.`` = 'x'", 13, "missing key after 'model_config.'"),
        ("tags.`open = 'x'", 5, "unterminated key"),
        ("'name' = 'x'", 0, "expected a field, got \"'name'\""),
        ("= 'x'", 0, "expected a field"),
        ("()", 1, "expected a field, got ')'"),
        ("name = 'x' AND", 14, "unexpected end of filter"),
        ("NOT", 3, "unexpected end of filter"),
        # missing operator / unknown operator
        ("name", 4, "missing operator after 'name'"),
        ("name 'x'", 5, "missing operator after 'name'"),
        ("name == 'x'", 5, "unknown operator '=='"),
        ("name <> 'x'", 5, "unknown operator '<>'"),
        ("name ~ 'x'", 5, "unknown operator '~'"),
        ("name IS 'x'", 5, "unknown operator 'IS'"),
        ("name NOT = 'x'", 9, "expected LIKE or ILIKE after NOT"),
        ("name NOT", 8, "expected LIKE or ILIKE after NOT"),
        # missing value
        ("name =", 6, "missing value after '='"),
        ("name =   ", 9, "missing value after '='"),
        ("name LIKE", 9, "missing value after 'LIKE'"),
        ("name = AND alias = 'x'", 7, "missing value after '='"),
        ("(name = )", 8, "missing value after '='"),
        ("name = x", 7, "unquoted value 'x'"),
        # unterminated string
        ("name = 'x", 7, "unterminated string"),
        ('name = "x', 7, "unterminated string"),
        ("name = 'it\\'", 7, "unterminated string"),
        ("name = 'it''", 7, "unterminated string"),
        ("name = 'a' OR tags.t = 'b", 23, "unterminated string"),
        # unbalanced parenthesis
        ("(name = 'x'", 0, "this '(' is never closed"),
        ("((name = 'x')", 0, "this '(' is never closed"),
        ("name = 'x')", 10, "this ')' has no matching '('"),
        ("(name = 'x'))", 12, "this ')' has no matching '('"),
        ("(name = 'x' alias = 'y')", 12, "expected AND, OR or ')' before 'alias'"),
        # trailing garbage
        ("name = 'x' garbage", 11, "unexpected 'garbage' after a complete condition"),
        ("name = 'x' 'y'", 11, "unexpected \"'y'\" after a complete condition"),
        ("name = 'x' NOT alias = 'y'", 11, "unexpected 'NOT'"),
        ("name = 'x' # comment", 11, "unexpected character '#'"),
        # types: numbers, strings and the operators that need them
        ("model_config.temperature < 'a'", 27, "'<' needs a number, got a string"),
        ('model_config.temperature >= "1"', 28, "'>=' needs a number, got a string"),
        ("name < 3", 5, "'<' compares numbers"),
        ("tags.n > 1", 7, "'>' compares numbers"),
        ("name = 3", 7, "name holds text: put 3 in quotes"),
        ("alias != 1", 9, "alias holds text"),
        ("model_config.max_tokens LIKE 5", 29, "LIKE needs a quoted pattern"),
        ("name NOT ILIKE 5", 15, "NOT ILIKE needs a quoted pattern"),
    ],
)
def test_errors_point_at_the_offending_token(text: str, position: int, reason: str) -> None:
    with pytest.raises(InvalidFilter) as info:
        parse_filter(text)
    error = info.value
    assert error.position == position
    assert reason in error.reason
    assert error.text == text
    assert str(error).startswith(f"invalid filter at character {position + 1}: ")
    assert error.exit_code == EXIT_USAGE


# Pieces of filters, good and bad, so random sequences reach deep into the parser.
TOKENS = [
    "name", "tags.team", "tags.`a b`", "tags.", "alias", "model_config.t", "template",
    "description", "foo", "=", "!=", "==", "<", "<=", ">", ">=", "~", "LIKE", "ilike",
    "NOT", "not", "AND", "OR", "(", ")", "'x'", '"y"', "'%a_'", "'", '"', "`", "0.2",
    "-3", "1e5", ".", "x",
]  # fmt: skip

FILTER_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="ntag.s`'\"\\()=!<>%_ 0.5NOTANDOR", max_size=40),
    st.lists(st.sampled_from(TOKENS), max_size=12).map(" ".join),
)
SAMPLE_RECORDS = [
    RECORD,
    BARE,
    Record(name="", tags={"team": ""}, model_config={"t": None, "x": [1, 2]}),
]


@given(FILTER_TEXT)
def test_parse_raises_only_invalid_filter_and_predicates_return_bool(text: str) -> None:
    try:
        predicate = parse_filter(text)
    except InvalidFilter as error:
        assert 0 <= error.position <= len(text)
        assert error.reason
        return
    for record in SAMPLE_RECORDS:
        assert isinstance(predicate(record), bool)


@pytest.mark.parametrize(("text", "expected"), [
    ("alias = 'production'", True),
    ("tags.team = 'a' OR NOT alias LIKE 'p%'", True),
    ("(alias != 'x')", True),
    ("tags.team = 'a'", False),
    ("tags.alias = 'alias'", False),  # a key and a value named alias test no alias
    ("model_config.alias > 1 AND name = \"alias\"", False),
    ("", False),
    ("tags.team = 'unterminated", True),  # left to parse_filter to refuse
])
def test_reads_aliases(text: str, expected: bool) -> None:
    assert reads_aliases(text) is expected


CONDITIONS = st.lists(st.sampled_from([
    "alias = 'production'", "alias LIKE 'c%'", "NOT alias = 'p'", "tags.team = 'support'",
    "name LIKE '%'", "tags.alias = 'x'", "description = 'alias'"]), min_size=1, max_size=4)


@given(st.one_of(FILTER_TEXT, CONDITIONS.map(" OR ".join), CONDITIONS.map(" AND ".join)),
       st.frozensets(st.sampled_from(["production", "canary", "p", ""])))
def test_a_filter_that_reads_no_alias_does_not_depend_on_aliases(
        text: str, aliases: frozenset[str]) -> None:
    """A search skips reading aliases for such a filter: it must not need them."""
    try:
        predicate = parse_filter(text)
    except InvalidFilter:
        return
    if reads_aliases(text):
        return
    for record in SAMPLE_RECORDS:
        assert predicate(replace(record, aliases=aliases)) == predicate(record)
