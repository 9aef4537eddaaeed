"""MLflow-style code, unchanged but for the import, against a real throwaway registry.

Each test reads as code written for ``mlflow.genai`` (MLflow 3.x): ``genai`` here is
``promptctl``, the module-level functions work on ``$PROMPTCTL_REGISTRY``. What MLflow
does was checked against MLflow 3.17.2; MLflow itself is not needed to run these tests.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

import promptctl
import promptctl as genai  # was: import mlflow.genai as genai
import promptctl.default

from .helpers import AUTHOR, tick


@pytest.fixture(autouse=True)
def default_registry(repo_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The module-level functions' default registry: ``repo_path``, opened afresh."""
    monkeypatch.setenv("PROMPTCTL_REGISTRY", str(repo_path))
    monkeypatch.setattr(promptctl.default, "_default", None)
    yield
    if promptctl.default._default is not None:
        promptctl.default._default.close()


# -- register_prompt ------------------------------------------------------------------------


def test_register_prompt_takes_mlflows_positional_order() -> None:
    # MLflow: register_prompt(name, template, commit_message, tags, response_format, model_config)
    v = genai.register_prompt("qa", "Answer {{ question }}", "First version", {"team": "web"},
                              {"type": "object", "properties": {"answer": {"type": "string"}}},
                              {"model_name": "gpt-4o", "temperature": 0.2})
    assert v.version == 1
    assert v.commit_message == "First version"
    assert v.tags == {"team": "web"}  # the 4th positional is tags, never model_config
    assert v.response_format == {"type": "object",
                                 "properties": {"answer": {"type": "string"}}}
    assert v.model_config == {"model_name": "gpt-4o", "temperature": 0.2}

    loaded = genai.load_prompt("prompts:/qa/1")
    assert (loaded.tags, loaded.model_config, loaded.response_format) == (
        v.tags, v.model_config, v.response_format)


def test_register_prompt_with_mlflows_keywords() -> None:
    v = genai.register_prompt(
        name="greet",
        template="Hello {{ name }}!",
        commit_message="Initial",
        tags={"author": "ada"},
        model_config={"temperature": 0.5},
    )
    assert (v.name, v.version, v.tags, v.model_config) == (
        "greet", 1, {"author": "ada"}, {"temperature": 0.5})
    tick()
    v2 = genai.register_prompt(name="greet", template="Hi {{ name }}!", commit_message="Shorter")
    assert v2.version == 2


def test_register_a_chat_prompt() -> None:
    v = genai.register_prompt("chat", [
        {"role": "system", "content": "You are a {{ style }} assistant."},
        {"role": "user", "content": "{{ question }}"},
    ])
    assert v.format(style="terse", question="Why?") == [
        {"role": "system", "content": "You are a terse assistant."},
        {"role": "user", "content": "Why?"},
    ]


# -- load_prompt ----------------------------------------------------------------------------


@pytest.fixture
def two_versions() -> None:
    genai.register_prompt("x", "One {{ a }}", "one")
    tick()
    genai.register_prompt("x", "Two {{ a }}", "two")


@pytest.mark.usefixtures("two_versions")
def test_load_prompt_by_uri_name_and_version() -> None:
    assert genai.load_prompt("prompts:/x/1").version == 1
    assert genai.load_prompt("x", version=2).version == 2
    assert genai.load_prompt("x", version="1").version == 1  # MLflow takes str | int
    assert genai.load_prompt("x", 1).template == "One {{ a }}"
    assert genai.load_prompt("x").version == 2  # no version: the latest
    assert genai.load_prompt("prompts:/x@latest").version == 2


@pytest.mark.usefixtures("two_versions")
def test_load_prompt_by_uri_with_a_version_raises() -> None:
    # MLflow: "The `version` argument should not be specified when loading a prompt by URI."
    with pytest.raises(genai.PromptctlError):
        genai.load_prompt("prompts:/x/1", version=2)
    with pytest.raises(genai.PromptctlError):
        genai.load_prompt("prompts:/x@latest", version=1)


@pytest.mark.usefixtures("two_versions")
def test_load_prompt_allow_missing_returns_none() -> None:
    genai.set_prompt_alias("x", "production", 1)
    assert genai.load_prompt("nope", version=1, allow_missing=True) is None
    assert genai.load_prompt("prompts:/nope/1", allow_missing=True) is None
    assert genai.load_prompt("x", version=9, allow_missing=True) is None
    assert genai.load_prompt("prompts:/x/9", allow_missing=True) is None
    assert genai.load_prompt("prompts:/x@staging", allow_missing=True) is None
    assert genai.load_prompt("prompts:/x@production", allow_missing=True) is not None
    with pytest.raises(genai.NotFound):
        genai.load_prompt("x", version=9)
    with pytest.raises(genai.NotFound):
        genai.load_prompt("prompts:/x@staging")


@pytest.mark.usefixtures("two_versions")
def test_load_prompt_takes_cache_ttl_seconds() -> None:
    assert genai.load_prompt("prompts:/x@latest", cache_ttl_seconds=300).version == 2
    assert genai.load_prompt("x", version=1, cache_ttl_seconds=0).version == 1


# -- aliases --------------------------------------------------------------------------------


@pytest.mark.usefixtures("two_versions")
def test_set_and_delete_prompt_alias() -> None:
    genai.set_prompt_alias("x", "production", 1)
    p = genai.load_prompt("prompts:/x@production")
    assert p.version == 1
    assert "production" in p.aliases

    genai.set_prompt_alias("x", "production", 2)  # MLflow moves an existing alias
    assert genai.load_prompt("prompts:/x@production").version == 2

    genai.delete_prompt_alias("x", "production")
    assert genai.load_prompt("prompts:/x@production", allow_missing=True) is None
    with pytest.raises(genai.NotFound):
        genai.load_prompt("prompts:/x@production")


# -- search_prompts -------------------------------------------------------------------------


@pytest.fixture
def three_prompts() -> None:
    genai.register_prompt("alpha", "A {{ q }}", tags={"team": "web"})
    tick()
    genai.register_prompt("beta", "B {{ q }}", tags={"team": "api"})
    tick()
    genai.register_prompt("gamma", "G {{ q }}", tags={"team": "web"})
    tick()
    genai.register_prompt("gamma", "G2 {{ q }}", tags={"team": "web"})


@pytest.mark.usefixtures("three_prompts")
def test_search_prompts_filter_string() -> None:
    found = genai.search_prompts("tags.team = 'web'")
    assert [p.name for p in found] == ["alpha", "gamma"]
    assert found[0].tags == {"team": "web"}
    assert [p.name for p in genai.search_prompts(filter_string="name LIKE 'b%'")] == ["beta"]
    assert [p.name for p in genai.search_prompts()] == ["alpha", "beta", "gamma"]


@pytest.mark.usefixtures("three_prompts")
def test_search_prompts_max_results_and_order_by() -> None:
    assert len(genai.search_prompts(max_results=2)) == 2
    assert [p.name for p in genai.search_prompts(order_by=["name DESC"])] == [
        "gamma", "beta", "alpha"]
    assert [p.name for p in genai.search_prompts("tags.team = 'web'", 1, ["name DESC"])] == [
        "gamma"]
    newest_first = genai.search_prompts(order_by=["latest_version DESC", "name ASC"])
    assert [p.name for p in newest_first] == ["gamma", "alpha", "beta"]


# -- PromptVersion: the attributes MLflow code reads --------------------------------------


def test_prompt_version_attributes() -> None:
    genai.register_prompt("summarize", "Summarize {{ ticket }} in {{ n }} sentences.",
                          "First", {"team": "support"},
                          model_config={"temperature": 0.1})
    genai.set_prompt_alias("summarize", "production", 1)
    p = genai.load_prompt("prompts:/summarize@production")

    assert p.name == "summarize"
    assert p.version == 1
    assert p.template == "Summarize {{ ticket }} in {{ n }} sentences."
    assert p.commit_message == "First"
    assert p.tags == {"team": "support"}
    assert list(p.aliases) == ["production"]
    assert set(p.variables) == {"ticket", "n"}  # MLflow: a set; here: a tuple, in order
    assert p.uri == "prompts:/summarize/1"
    assert p.model_config == {"temperature": 0.1}
    assert p.response_format is None

    # creation_timestamp: milliseconds since the epoch, an int (MLflow's unit)
    assert isinstance(p.creation_timestamp, int)
    assert p.creation_timestamp == p.timestamp * 1000
    created = datetime.fromtimestamp(p.creation_timestamp / 1000, tz=timezone.utc)
    assert created == p.date
    assert p.last_updated_timestamp == p.creation_timestamp  # a version never changes
    assert p.user_id == AUTHOR[0]
    assert p.prompt_type == "text"
    assert p.is_text_prompt


def test_prompt_type_of_a_chat_prompt() -> None:
    p = genai.register_prompt("c", [{"role": "user", "content": "Hi {{ name }}"}])
    assert p.prompt_type == "chat"
    assert not p.is_text_prompt


def test_format_and_partial_format() -> None:
    p = genai.register_prompt("s", "Hello {{ title }} {{ name }}!")
    assert p.format(title="Ms", name="Ada") == "Hello Ms Ada!"

    partial = p.format(title="Ms", allow_partial=True)
    assert isinstance(partial, genai.PromptVersion)  # as MLflow: formatted again later
    assert partial.template == "Hello Ms {{ name }}!"
    assert partial.format(name="Ada") == "Hello Ms Ada!"


def test_missing_variable_error_suggests_allow_partial() -> None:
    # MLflow: "Missing variables: {'name'}. To partially format the prompt, set
    # `allow_partial=True`."
    p = genai.register_prompt("s", "Hello {{ title }} {{ name }}!")
    with pytest.raises(genai.InvalidInput, match="allow_partial") as caught:
        p.format(title="Ms")
    assert "name" in str(caught.value)


# -- to_single_brace_format: what LangChain's PromptTemplate.from_template reads ---------------


def test_to_single_brace_format() -> None:
    p = genai.register_prompt("s", "Hello {{ title }} {{name}}!")
    assert p.to_single_brace_format() == "Hello {title} {name}!"
    chat = genai.register_prompt("c", [{"role": "user", "content": "Q: {{ q }}"}])
    assert chat.to_single_brace_format() == [{"role": "user", "content": "Q: {q}"}]


LITERAL_BRACES = [
    'Return {"answer": "{{ q }}"}',
    "Use a set like {1, 2} for {{ q }}; close with }",
    "{{ q }}{{q}} and {{ other }} {{{ q }}}",
    "A JSON example:\n{\n  \"k\": [{\"v\": \"{{ q }}\"}]\n}\n",
]


@pytest.mark.parametrize("template", LITERAL_BRACES)
def test_single_brace_format_fills_like_format(template: str) -> None:
    # LangChain's PromptTemplate.from_template(t) formats with Python's str.format rules:
    # what it gives from to_single_brace_format() must be what format() gives.
    p = genai.register_prompt("s", template)
    values: dict[str, Any] = {"q": "why {not}?", "other": 3}
    values = {k: v for k, v in values.items() if k in p.variables}
    single = p.to_single_brace_format()
    assert isinstance(single, str)
    assert single.format(**values) == p.format(**values)
    # the names str.format finds are the prompt's variables, none else (what LangChain's
    # input_variables would be)
    fields = {f for _, f, _, _ in string.Formatter().parse(single) if f is not None}
    assert fields == set(p.variables)


def test_single_brace_format_of_a_chat_prompt_fills_like_format() -> None:
    p = genai.register_prompt("c", [
        {"role": "system", "content": 'Answer as JSON: {"answer": "..."}'},
        {"role": "user", "content": "{{ q }}"},
    ])
    single = p.to_single_brace_format()
    assert isinstance(single, list)
    filled = [{**m, "content": m["content"].format(q="why?")} for m in single]
    assert filled == p.format(q="why?")
