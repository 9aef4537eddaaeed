"""Rendering: data from the registry to text, Rich tables or JSON. No logic lives here.

Data goes to stdout, messages to stderr. Rich is imported only by the views that draw
tables, so ``promptctl load`` does not pay for it; Rich itself drops colour when stdout
is not a terminal or ``NO_COLOR`` is set.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ..models import AliasInfo, PromptDiff, PromptSummary, PromptVersion, RegisterResult, VersionInfo

if TYPE_CHECKING:
    from ..checker import CheckReport


def message(text: str) -> None:
    """A message for the person at the terminal (stderr, so pipes carry only data)."""
    print(text, file=sys.stderr)


def _json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_edge=False, header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    Console().print(table)


def _short(commit: str) -> str:
    return commit[:10]


def registered(result: RegisterResult, as_json: bool) -> None:
    """After ``register`` / ``tag``: name, version and commit."""
    if as_json:
        _json(result.to_dict())
        return
    v = result.version
    print(f"{v.name} version {v.version} commit {_short(v.commit)}")
    if not result.created:
        message(f"unchanged: {v.name} already holds this content as version {v.version}")


def loaded(prompt: PromptVersion, formatted: Any, as_json: bool) -> None:
    """After ``load``: the template or the formatted prompt, and nothing else."""
    if as_json:
        _json({**prompt.to_dict(), "formatted": formatted})
        return
    body = prompt.template if formatted is None else formatted
    if isinstance(body, str):
        sys.stdout.write(body if body.endswith("\n") else body + "\n")
    else:
        _json(body)


def version(v: PromptVersion, as_json: bool) -> None:
    """``show``: one version in full."""
    if as_json:
        _json(v.to_dict())
        return
    lines = [
        f"name:        {v.name}",
        f"version:     {v.version}",
        f"uri:         {v.uri}",
        f"commit:      {v.commit}",
        f"author:      {v.author}",
        f"date:        {v.date:%Y-%m-%d %H:%M:%S %Z}",
        f"note:        {v.commit_message.splitlines()[0] if v.commit_message else ''}",
        f"aliases:     {', '.join(v.aliases) or '-'}",
        f"variables:   {', '.join(v.variables) or '-'}",
    ]
    if v.description:
        lines.append(f"description: {v.description}")
    lines += [f"model_config.{k}: {val}" for k, val in v.model_config.items()]
    lines += [f"tags.{k}: {val}" for k, val in v.tags.items()]
    print("\n".join(lines))
    print("template:")
    if isinstance(v.template, str):
        print("  " + v.template.rstrip("\n").replace("\n", "\n  "))
    else:
        for msg in v.template:
            print(f"  [{msg.get('role')}] " + str(msg.get("content", "")).replace("\n", "\n    "))


def summaries(found: list[PromptSummary], as_json: bool) -> None:
    """``list`` and ``search``."""
    if as_json:
        _json([s.to_dict() for s in found])
        return
    if not found:
        message("no prompts")
        return
    _table(None, ("name", "latest", "aliases", "description"), (
        (s.name, s.latest_version,
         ", ".join(f"{a}→v{n}" for a, n in sorted(s.alias_versions.items())),
         s.problem and f"INVALID: {s.problem}" or s.description)
        for s in found
    ))


def history(rows: list[VersionInfo], as_json: bool) -> None:
    """``history``: every version."""
    if as_json:
        _json([r.to_dict() for r in rows])
        return
    _table(rows[0].name, ("version", "commit", "date", "author", "note", "aliases"), (
        (r.version, _short(r.commit), f"{r.date:%Y-%m-%d %H:%M}", r.author,
         r.message.splitlines()[0] if r.message else "", ", ".join(r.aliases))
        for r in rows
    ))


def diff(d: PromptDiff, as_json: bool) -> None:
    """``diff NAME FROM TO``."""
    if as_json:
        _json(d.to_dict())
        return
    print(f"{d.name}: version {d.from_version} → {d.to_version}")
    if d.is_empty:
        print("no changes")
        return
    if d.description_change:
        print(f"description: {d.description_change[0]!r} → {d.description_change[1]!r}")
    for key, (old, new) in d.model_config_changes.items():
        print(f"model_config.{key}: {old!r} → {new!r}")
    for key, (old, new) in d.tag_changes.items():
        print(f"tags.{key}: {old!r} → {new!r}")
    if d.variables_added:
        print("variables added: " + ", ".join(d.variables_added))
    if d.variables_removed:
        print("variables removed: " + ", ".join(d.variables_removed))
    if d.template_diff:
        print("\n".join(d.template_diff))


def alias_set(info: AliasInfo, as_json: bool) -> None:
    """After ``alias set``."""
    if as_json:
        _json(info.to_dict())
        return
    print(f"{info.name}@{info.alias} → version {info.version} (commit {_short(info.commit)})")


def aliases(found: list[AliasInfo], as_json: bool) -> None:
    """``alias list``."""
    if as_json:
        _json([a.to_dict() for a in found])
        return
    if not found:
        message("no aliases")
        return
    _table(None, ("name", "alias", "version", "commit"),
           ((a.name, a.alias, a.version, _short(a.commit)) for a in found))


def check_report(report: CheckReport, as_json: bool) -> None:
    """``check``: every problem, one per line, then a count."""
    if as_json:
        _json(report.to_dict())
        return
    for problem in report.problems:
        print(str(problem))
    count = len(report.problems)
    message(f"{report.files} file(s) checked, {count} problem(s)")
