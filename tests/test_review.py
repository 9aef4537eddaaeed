"""Review between two refs (``diff --base``), on real throwaway repositories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promptctl import NotFound, Registry
from promptctl.review import PromptChange, Review

from .helpers import Run, git, snapshot, tick


def commit_all(path: Path, message: str) -> None:
    tick()
    git(path, "add", "-A")
    git(path, "commit", "-qm", message)


@pytest.fixture
def pull_request(registry: Registry, repo_path: Path) -> Registry:
    """``main`` holds four prompts; branch ``feature`` adds, removes, renames and changes one each.
    """
    registry.register_prompt("support/sum", "Summarize {{ticket}} in {{n}} lines.\n", "v1",
                             model_config={"temperature": 0.2}, tags={"team": "support"})
    registry.register_prompt("gone", "Bye {{name}}\n", "v1")
    registry.register_prompt("old-name", "Moved {{x}}\n", "v1", tags={"team": "sales"})
    registry.register_prompt("steady", "Never touched {{x}}\n", "v1")
    git(repo_path, "checkout", "-q", "-b", "feature")
    tick()
    registry.register_prompt("support/sum", "Summarize {{ticket}} in a {{tone}} tone.\n", "v2",
                             model_config={"temperature": 0.5, "max_tokens": 300},
                             tags={"team": "support", "task": "summary"},
                             description="Summaries for on-call")
    tick()
    registry.register_prompt("brand-new", "Hello {{who}}\n", "new")
    git(repo_path, "rm", "-q", "prompts/gone.yaml")
    git(repo_path, "mv", "prompts/old-name.yaml", "prompts/new-name.yaml")
    (repo_path / "README.md").write_text("not a prompt\n")
    commit_all(repo_path, "remove, rename, readme")
    return registry


def by_name(review: Review) -> dict[str, PromptChange]:
    return {c.name: c for c in review.changes}


def test_review_lists_added_removed_renamed_and_changed(pull_request: Registry) -> None:
    review = pull_request.review("main")
    changes = by_name(review)
    assert {n: (c.status, c.old_name) for n, c in changes.items()} == {
        "brand-new": ("added", None),
        "gone": ("removed", None),
        "new-name": ("renamed", "old-name"),
        "support/sum": ("changed", None),
    }
    assert review.counts == {"added": 1, "removed": 1, "renamed": 1, "changed": 1, "breaking": 3}
    assert [c.name for c in review.changes] == sorted(changes)  # stable order
    assert review.head == "HEAD" and review.head_commit == git(
        pull_request.root, "rev-parse", "HEAD").strip()


def test_review_details_of_a_changed_prompt(pull_request: Registry) -> None:
    d = by_name(pull_request.review("main"))["support/sum"].diff
    assert d.model_config_changes == {"max_tokens": (None, 300), "temperature": (0.2, 0.5)}
    assert d.tag_changes == {"task": (None, "summary")}
    assert d.description_change == (None, "Summaries for on-call")
    assert (d.variables_added, d.variables_removed) == (("tone",), ("n",))
    assert d.template_diff[:2] == (
        "--- a/prompts/support/sum.yaml", "+++ b/prompts/support/sum.yaml"
    )
    assert "-Summarize {{ticket}} in {{n}} lines." in d.template_diff
    assert "+Summarize {{ticket}} in a {{tone}} tone." in d.template_diff


def test_breaking_flags(pull_request: Registry) -> None:
    changes = by_name(pull_request.review("main"))
    assert changes["support/sum"].breaking == (
        "new required variable(s) tone: callers that do not pass them fail",
        "variable(s) n removed: values callers pass for them are dropped",
    )
    assert changes["gone"].breaking == ("prompt removed: loading gone fails",)
    assert changes["new-name"].breaking == (
        "renamed from old-name: callers loading old-name must change",)
    assert not changes["brand-new"].is_breaking  # nobody calls a new prompt yet
    assert changes["new-name"].diff.is_empty  # moved as it was


def test_wording_and_config_changes_are_not_breaking(registry: Registry) -> None:
    registry.register_prompt("s", "Answer {{q}} briefly.\n", "v1", model_config={"temperature": 0})
    tick()
    registry.register_prompt("s", "Answer {{ q }} very briefly.\n", "v2",
                             model_config={"temperature": 1})
    change = registry.review("HEAD~1").changes[0]
    assert change.status == "changed" and change.diff.template_diff
    assert change.breaking == ()


def test_text_to_chat_is_breaking(registry: Registry) -> None:
    registry.register_prompt("s", "Answer {{q}}\n", "v1")
    tick()
    registry.register_prompt("s", [{"role": "user", "content": "Answer {{q}}"}], "v2")
    (reason,) = registry.review("HEAD~1").changes[0].breaking
    assert reason.startswith("template changed from text to chat messages")


def test_layout_only_edit_is_not_a_prompt_change(registry: Registry, repo_path: Path) -> None:
    registry.register_prompt("s", "Same {{x}}\n", "v1")
    (repo_path / "prompts/s.yaml").write_text("# a comment\ntemplate: \"Same {{x}}\\n\"\n")
    commit_all(repo_path, "reformat")
    review = registry.review("HEAD~1")
    assert git(repo_path, "diff", "--stat", "HEAD~1").strip()  # git does see a change
    assert review.changes == () and review.counts["breaking"] == 0


def test_response_format_change_is_reported(registry: Registry) -> None:
    registry.register_prompt("s", "Json {{x}}\n", "v1")
    tick()
    schema = {"type": "object"}
    registry.register_prompt("s", "Json {{x}}\n", "v2", response_format=schema)
    (change,) = registry.review("HEAD~1").changes
    assert change.response_format_change == (None, schema)
    assert change.to_dict()["response_format"] == {"from": None, "to": schema}


def test_invalid_file_at_head_is_reported_not_raised(registry: Registry, repo_path: Path) -> None:
    registry.register_prompt("s", "Fine {{x}}\n", "v1")
    (repo_path / "prompts/s.yaml").write_text("template: ''\n")
    commit_all(repo_path, "break it")
    (change,) = registry.review("HEAD~1").changes
    assert change.problem is not None and "prompts/s.yaml at HEAD: template" in change.problem
    assert change.is_breaking and change.breaking[0].startswith("does not load")
    assert "+template: ''" in change.diff.template_diff  # the raw file diff


def test_explicit_head_and_unknown_refs(registry: Registry, repo_path: Path) -> None:
    registry.register_prompt("a", "A {{x}}\n", "v1")
    git(repo_path, "tag", "v1")
    tick()
    registry.register_prompt("b", "B {{x}}\n", "v1")
    first = git(repo_path, "rev-list", "--max-parents=0", "HEAD").strip()
    assert [c.name for c in registry.review(first, "v1").changes] == ["a"]
    assert [c.name for c in registry.review("v1").changes] == ["b"]
    assert registry.review("HEAD").changes == ()
    with pytest.raises(NotFound, match="unknown git ref 'nope'"):
        registry.review("nope")
    with pytest.raises(NotFound, match="unknown git ref '--all'"):
        registry.review("v1", "--all")  # never read as an option


def test_registry_in_a_subfolder_reviews_only_its_prompts(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "app")
    app = tmp_path / "app"
    (app / "prompts").mkdir()
    (app / "prompts/outside.yaml").write_text("template: not ours\n")
    commit_all(app, "app")
    with Registry.init(app / "llm") as reg:
        reg.register_prompt("inside", "In {{x}}\n", "v1")
        (app / "prompts/outside.yaml").write_text("template: still not ours\n")
        commit_all(app, "edit outside")
        review = reg.review("HEAD~3")
    assert review.folder == "llm/prompts/"
    assert [(c.name, c.path) for c in review.changes] == [("inside", "llm/prompts/inside.yaml")]


# -- the command line -------------------------------------------------------------------


def test_cli_markdown_is_ready_for_a_pull_request(pull_request: Registry, run: Run) -> None:
    code, out, err = run("diff", "--base", "main", "--format", "markdown")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == ("## Prompt changes: 1 added · 1 removed · 1 renamed · 1 changed"
                        " · ⚠ 3 breaking")
    assert "> ⚠ **Breaking:** `gone`, `new-name`, `support/sum`" in out
    assert "### ⚠ `support/sum` — changed" in lines
    assert "### `brand-new` — added" in lines
    assert "### ⚠ `new-name` — renamed from `old-name`" in lines
    assert "| `model_config.temperature` | `0.2` | `0.5` |" in lines
    assert "| `tags.task` | — | `\"summary\"` |" in lines
    assert "**Variables:** added `tone`; removed `n`" in lines
    sum_diff = out[out.index("### ⚠ `support/sum`"):]
    fenced = sum_diff[sum_diff.index("```diff\n") + 8:]
    assert fenced[:fenced.index("\n```")].splitlines()[3:] == [
        "-Summarize {{ticket}} in {{n}} lines.",
        "+Summarize {{ticket}} in a {{tone}} tone.",
    ]


def test_cli_markdown_escapes_what_would_break_it(registry: Registry, run: Run) -> None:
    registry.register_prompt("s", "Plain {{x}}\n", "v1", tags={"k": "a"})
    tick()
    registry.register_prompt("s", "Show:\n```\ncode {{x}}\n```\n", "v2", tags={"k": "a|b"})
    _, out, _ = run("diff", "--base", "HEAD~1", "--format", "markdown")
    assert "````diff" in out.splitlines()  # longer than the template's own fence
    assert "| `tags.k` | `\"a\"` | `\"a\\|b\"` |" in out.splitlines()


def test_cli_json_shape(pull_request: Registry, run: Run) -> None:
    code, out, _ = run("diff", "--base", "main", "--head", "feature", "--format", "json")
    data = json.loads(out)
    assert code == 0 and set(data) == {"base", "head", "folder", "counts", "changes"}
    assert data["base"]["ref"] == "main" and len(data["base"]["commit"]) == 40
    assert data["head"]["ref"] == "feature"
    changed = next(c for c in data["changes"] if c["name"] == "support/sum")
    assert set(changed) == {
        "name", "status", "old_name", "path", "old_path", "breaking", "problem", "description",
        "model_config", "tags", "response_format", "variables_added", "variables_removed",
        "template_diff",
    }
    assert changed["model_config"]["temperature"] == {"from": 0.2, "to": 0.5}
    assert changed["variables_removed"] == ["n"] and len(changed["breaking"]) == 2
    renamed = next(c for c in data["changes"] if c["status"] == "renamed")
    assert (renamed["old_name"], renamed["old_path"]) == ("old-name", "prompts/old-name.yaml")
    same = json.loads(run("--json", "diff", "--base", "main")[1])  # --json means --format json
    assert same["head"] == {"ref": "HEAD", "commit": data["head"]["commit"]}
    assert same["changes"] == data["changes"]


def test_cli_text(pull_request: Registry, run: Run) -> None:
    code, out, _ = run("diff", "--base", "main")
    assert code == 0
    assert out.startswith("prompts/ from main (")
    assert "1 added, 1 removed, 1 renamed, 1 changed; 3 breaking" in out.splitlines()[0]
    assert "support/sum: changed  ⚠ BREAKING" in out
    assert "  model_config.temperature: 0.2 → 0.5" in out
    assert "new-name: renamed from old-name  ⚠ BREAKING" in out
    code, out, _ = run("diff", "--base", "HEAD")
    assert code == 0 and out.rstrip().endswith("no prompt changes")


@pytest.mark.parametrize("args", [
    ["diff", "--base", "nope"],
    ["diff", "--base", "main", "--head", "nope"],
])
def test_cli_unknown_ref_is_not_found(pull_request: Registry, run: Run, repo_path: Path,
                                      args: list[str]) -> None:
    before = snapshot(repo_path)
    code, out, err = run(*args)
    assert (code, out) == (3, "")
    assert err == "error: unknown git ref 'nope': no commit, branch or tag of that name\n"
    assert snapshot(repo_path) == before


def test_cli_old_three_argument_form_still_works(registry: Registry, run: Run) -> None:
    registry.register_prompt("s", "One {{x}}\n", "v1")
    registry.register_prompt("s", "Two {{x}}\n", "v2")
    code, out, _ = run("diff", "s", "1", "2")
    assert code == 0 and out.startswith("s: version 1 → 2") and "+Two {{x}}" in out
    code, out, _ = run("diff", "s", "1", "2", "--format", "json")
    assert code == 0 and json.loads(out)["to_version"] == 2


@pytest.mark.parametrize(("args", "fragment"), [
    (["diff"], "give NAME FROM TO"),
    (["diff", "s", "1"], "give NAME FROM TO"),
    (["diff", "s", "1", "2", "--base", "HEAD"], "not both"),
    (["diff", "--head", "HEAD"], "--head needs --base"),
    (["diff", "s", "1", "2", "--format", "markdown"], "markdown needs --base"),
    (["diff", "--base", "HEAD", "--format", "yaml"], "'yaml' is not one of"),
])
def test_cli_incomplete_forms_are_usage_errors(registry: Registry, run: Run, args: list[str],
                                               fragment: str) -> None:
    registry.register_prompt("s", "One {{x}}\n", "v1")
    code, out, err = run(*args)
    assert (code, out) == (2, "")
    assert err.startswith("error: ") and err.count("\n") == 1 and fragment in err
