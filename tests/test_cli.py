"""The CLI as a user meets it: output, exit codes, one-line errors, untouched repositories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .helpers import Run, git, snapshot


def test_register_load_show_history(run: Run) -> None:
    code, out, _ = run("register", "support/sum", "-t", "Sum {{ticket}} in {{n}}.", "-m", "first",
                       "--model-config", "temperature=0.2", "--model-config", "model_name=gpt-4o",
                       "--tag", "team=support")
    assert code == 0 and out.startswith("support/sum version 1 commit ")
    run("register", "support/sum", "-t", "Sum {{ticket}} in {{n}} lines.", "-m", "second")
    code, out, err = run("load", "prompts:/support/sum/1", "--var", "ticket=T", "--var", "n=2")
    assert (code, out, err) == (0, "Sum T in 2.\n", "")
    code, out, _ = run("--json", "show", "support/sum/1")
    data = json.loads(out)
    assert data["model_config"] == {"temperature": 0.2, "model_name": "gpt-4o"}
    assert data["variables"] == ["ticket", "n"] and data["version"] == 1
    code, out, _ = run("--json", "history", "support/sum")
    assert [v["message"] for v in json.loads(out)] == ["first", "second"]


def test_register_unchanged_says_so(run: Run) -> None:
    run("register", "s", "-t", "same")
    code, out, err = run("register", "s", "-t", "same")
    assert code == 0 and "version 1" in out and "unchanged" in err


def test_register_from_file_and_stdin(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prompt = tmp_path / "p.yaml"
    prompt.write_text("description: d\ntags:\n  team: a\ntemplate: |\n  Hi {{name}}\n")
    code, _, err = run("register", "from-file", "-f", str(prompt))
    assert code == 0, err
    _, out, _ = run("--json", "show", "from-file")
    assert json.loads(out)["tags"] == {"team": "a"}
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("Plain {{text}} template\n"))
    code, _, _ = run("register", "from-stdin", "-f", "-")
    assert code == 0
    assert run("load", "from-stdin")[1] == "Plain {{text}} template\n"


def test_aliases_promote_and_roll_back(run: Run) -> None:
    run("register", "s", "-t", "one {{x}}")
    run("register", "s", "-t", "two {{x}}")
    code, out, _ = run("alias", "set", "s", "production", "2", "-m", "ship")
    assert code == 0 and "version 2" in out
    assert run("load", "s@production")[1] == "two {{x}}\n"
    run("alias", "set", "s", "production", "1", "-m", "roll back")
    assert run("load", "s@production", "--var", "x=X")[1] == "one X\n"
    _, out, _ = run("--json", "alias", "list")
    assert json.loads(out) == [{"name": "s", "alias": "production", "version": 1,
                                "commit": json.loads(out)[0]["commit"], "problem": None}]
    assert run("alias", "delete", "s", "production")[0] == 0
    assert run("load", "s@production")[0] == 3


def test_list_search_diff_tags(run: Run) -> None:
    run("register", "a", "-t", "refund {{x}}", "--tag", "team=support")
    run("register", "b", "-t", "hello {{y}}", "--tag", "team=sales")
    _, out, _ = run("--json", "search", "tags.team = 'support'")
    assert [s["name"] for s in json.loads(out)] == ["a"]
    _, out, _ = run("--json", "list")
    assert [s["name"] for s in json.loads(out)] == ["a", "b"]
    code, out, _ = run("tag", "set", "a", "task=refunds", "-m", "tag it")
    assert code == 0 and "version 2" in out
    code, out, _ = run("diff", "a", "1", "2")
    assert code == 0 and 'tags.task: (none) → "refunds"' in out
    code, out, _ = run("tag", "delete", "a", "task")
    assert code == 0 and "version 3" in out
    code, _, err = run("search", "tags.team = ")
    assert code == 2 and err.startswith("error: invalid filter")


def test_chat_prompt_loads_as_json(run: Run, tmp_path: Path) -> None:
    prompt = tmp_path / "chat.yaml"
    prompt.write_text("template:\n  - role: system\n    content: Be brief.\n"
                      "  - role: user\n    content: '{{q}}'\n")
    run("register", "chat", "-f", str(prompt))
    code, out, _ = run("load", "chat", "--var", "q=Hi")
    assert code == 0 and json.loads(out)[1] == {"role": "user", "content": "Hi"}


def test_check_lists_every_problem(run: Run, repo_path: Path) -> None:
    (repo_path / "prompts").mkdir(exist_ok=True)
    (repo_path / "prompts/good.yaml").write_text("template: fine\n")
    (repo_path / "prompts/bad.yaml").write_text("template: ''\nmodel_config:\n  top_p: 3\n")
    code, out, err = run("check")
    assert code == 1
    assert "bad.yaml: template" in out and "bad.yaml: model_config.top_p" in out
    assert "2 file(s) checked, 2 problem(s)" in err
    (repo_path / "prompts/bad.yaml").unlink()
    assert run("check")[0] == 0


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["register", "../x", "-t", "t"], 2, "invalid prompt name"),
        (["register", "a b", "-t", "t"], 2, "invalid prompt name"),
        (["register", "x", "-t", "t", "-f", "f"], 2, "exactly one of"),
        (["register", "x", "-t", "t", "--tag", "novalue"], 2, "KEY=VALUE"),
        (["alias", "set", "s", "latest", "1"], 2, "reserved"),
        (["alias", "set", "s", "v3", "1"], 2, "reserved"),
        (["alias", "set", "s", "a/b", "1"], 2, "invalid alias"),
        (["alias", "set", "s", "prod", "9"], 3, "no version 9"),
        (["load", "s@"], 2, "invalid reference"),
        (["load", "nope"], 3, "not found"),
        (["load", "s/5"], 3, "versions 1 to 1 exist"),
        (["load", "s", "--var", "x=1"], 2, "missing value for variable(s): y"),
        (["load", "s@production"], 3, "aliases: none"),
        (["diff", "s", "1", "7"], 3, "no version 7"),
        (["nosuchcommand"], 2, "No such command"),
    ],
)
def test_errors_are_one_line_with_the_right_code(
    run: Run, repo_path: Path, args: list[str], code: int, fragment: str
) -> None:
    run("register", "s", "-t", "{{x}} {{y}}")
    before = snapshot(repo_path)
    got, out, err = run(*args)
    assert got == code
    assert out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and fragment in err
    assert snapshot(repo_path) == before


def test_dirty_prompt_file_is_a_conflict(run: Run, repo_path: Path) -> None:
    run("register", "s", "-t", "one")
    (repo_path / "prompts/s.yaml").write_text("template: mine\n")
    before = snapshot(repo_path)
    code, out, err = run("register", "s", "-t", "two")
    assert (code, out) == (4, "") and "uncommitted changes" in err
    assert snapshot(repo_path) == before


def test_init_is_idempotent_and_version_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = Run(tmp_path, capsys)
    target = tmp_path / "new"
    assert run("init", str(target), registry=False)[0] == 0
    assert run("init", str(target), registry=False)[0] == 0
    assert git(target, "log", "--format=%s").splitlines() == ["Initialize promptctl registry"]
    code, out, _ = run("--version", registry=False)
    assert code == 0 and out.startswith("promptctl ")


def test_no_registry_is_not_found(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = Run(tmp_path, capsys)("list", registry=False)
    assert code == 3 and out == "" and "promptctl init" in err
