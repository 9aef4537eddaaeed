"""Comparing two versions: line diffs as git writes them, breaking changes named."""

from __future__ import annotations

from promptctl import PromptVersion
from promptctl.compare import NO_NEWLINE, diff_versions, line_diff

from .helpers import Run


def version(number: int, template: object) -> PromptVersion:
    return PromptVersion("s", number, template, "c" * 40, "", "a", 0)  # type: ignore[arg-type]


def test_a_change_of_only_the_last_line_break_is_marked() -> None:
    lines = line_diff("a\nb\n", "a\nb", "old", "new")
    assert lines[-3:] == ("-b", "+b", NO_NEWLINE)
    assert line_diff("a", "b")[-4:] == ("-a", NO_NEWLINE, "+b", NO_NEWLINE)


def test_breaking_changes_are_named() -> None:
    text = version(1, "Hi {{ name }}\n")
    assert diff_versions(text, version(2, "Hi {{ name }}!\n")).breaking == ()
    added = diff_versions(text, version(2, "Hi {{ name }} from {{ place }}\n"))
    assert added.breaking == (("new required variable(s) place: callers that do not pass "
                              "them fail"),)
    chat = diff_versions(text, version(2, [{"role": "user", "content": "Hi {{ name }}"}]))
    assert chat.breaking == (("template changed from text to chat messages: format() returns "
                             "another type"),)


def test_an_unknown_name_suggests_the_close_ones(run: Run) -> None:
    run("register", "support/summarize", "-t", "Sum {{x}}")
    code, out, err = run("load", "summarize")
    assert (code, out) == (3, "")
    assert err == "error: prompt 'summarize' not found (did you mean 'support/summarize'?)\n"
    code, _, err = run("show", "support/sumarize")
    assert code == 3 and "did you mean 'support/summarize'" in err
