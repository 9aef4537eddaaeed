"""Rendering: data from the registry to text, plain tables or JSON. No logic lives here.

Data goes to stdout, messages to stderr. Colour (and bold) only when stdout is a
terminal and ``NO_COLOR`` is not set, whatever its value (https://no-color.org).
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys

# Nothing but the standard library's lightest at import: the cold ``load`` (``quick``)
# prints through :func:`body`. ``typing`` itself would cost it ~3 ms.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from typing import Any

    from ..checker import CheckReport
    from ..formats.lockfile import Lock, LockDrift
    from ..index import Finding
    from ..models import (
        AliasInfo,
        AliasMove,
        PromptDiff,
        PromptSummary,
        PromptVersion,
        RegisterResult,
        SyncResult,
        VersionInfo,
    )
    from ..review import PromptChange, Review


def message(text: str) -> None:
    """A message for the person at the terminal (stderr, so pipes carry only data)."""
    print(text, file=sys.stderr)


def warning(text: str) -> None:
    """Something went wrong on the side and was worked around: ``warning: …`` on stderr."""
    print(f"warning: {text}", file=sys.stderr)


def unused_variable(key: str, name: str, variables: Sequence[str]) -> None:
    """``load --var KEY=…`` for a KEY the template does not use (a typo, most likely)."""
    warning(f"--var {key} is not a variable of {name} "
            f"(variables: {', '.join(variables) or 'none'})")


def breaking(count: int) -> None:
    """Why ``diff --fail-on-breaking`` exits 1."""
    message(f"{count} breaking change(s); exit 1 (--fail-on-breaking)")


def _json(data: Any) -> None:
    try:
        text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    except TypeError:  # a key JSON cannot hold (YAML reads `2026-12-06:` as a date)
        text = json.dumps(_text_keys(data), indent=2, ensure_ascii=False, default=str)
    print(text)


def _text_keys(data: Any) -> Any:
    """``data`` with every mapping key JSON cannot hold made text, as ``default=str``
    makes values (keys it can hold it writes itself: ``1``, ``true``)."""
    if isinstance(data, dict):
        return {k if k is None or isinstance(k, (str, int, float)) else str(k): _text_keys(v)
                for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_text_keys(item) for item in data]
    return data


def _colour() -> bool:
    return "NO_COLOR" not in os.environ and sys.stdout.isatty()


def _table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Rows as aligned plain text: one line per row, columns two spaces apart, so that
    ``grep``, ``sort`` and ``cut`` work on it; the header (and title) bold on a terminal.

    Written by hand rather than with Rich: Rich lays out a table cell by cell, which
    took seconds for ``list`` at 10,000 prompts; this takes milliseconds. On a terminal a
    last column too long for its width folds under itself, as Rich folded it.
    """
    lines = [[_cell(cell) for cell in row] for row in rows]
    sizes = [[*map(_width, line)] for line in lines]
    widths = [max(column) for column in zip(map(_width, columns), *sizes, strict=True)]
    out = [_row(list(columns), [*map(_width, columns)], widths, None)]
    if _colour():
        out[0] = f"{_BOLD}{out[0]}{_RESET}"
    if title is not None:
        out.insert(0, f"{_BOLD}{_cell(title)}{_RESET}" if _colour() else _cell(title))
    fold = _terminal_columns()
    out += [_row(line, size, widths, fold) for line, size in zip(lines, sizes, strict=True)]
    sys.stdout.write("\n".join(out) + "\n")


# A cell is one line of text: a line break would split its row, and an escape sequence
# from a prompt file must not reach the terminal. Each control character shows as a space.
_CONTROLS = dict.fromkeys((*range(0x20), *range(0x7F, 0xA0)), " ")


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if text.isprintable() else text.translate(_CONTROLS)


def _width(text: str) -> int:
    """How many terminal columns ``text`` takes: East Asian wide characters two, combining
    marks none."""
    return len(text) if text.isascii() else _unicode_width(text)


@functools.lru_cache(maxsize=1024)  # cells repeat: "production→v9, staging→v10" …
def _unicode_width(text: str) -> int:
    from unicodedata import combining, east_asian_width

    return sum(0 if combining(ch) else 2 if east_asian_width(ch) in "WF" else 1
               for ch in text)


def _row(cells: list[str], sizes: list[int], widths: list[int], fold: int | None) -> str:
    """One table line from its cells and their widths; with ``fold`` (the terminal's
    width), a last cell too long for it goes on under itself, broken at spaces."""
    last = cells[-1]
    columns = zip(cells, sizes, widths, strict=True)
    cells = [cell + " " * (width - size) for cell, size, width in columns]
    cells[-1] = last
    line = "  ".join(cells).rstrip()
    start = sum(widths[:-1]) + 2 * (len(widths) - 1)
    if fold is None or start + sizes[-1] <= fold or fold - start < 20:
        return line  # fits, or too narrow to help (the terminal wraps the line)
    return line[:len(line) - len(last.rstrip())] + ("\n" + " " * start).join(
        _folded(last, fold - start))


def _folded(text: str, room: int) -> list[str]:
    """``text`` in lines at most ``room`` columns wide, broken at spaces where it can be."""
    lines: list[str] = []
    line, used = "", 0
    for word in text.split(" "):
        size = _width(word)
        if line and used + 1 + size <= room:
            line, used = f"{line} {word}", used + 1 + size
            continue
        if line or lines:
            lines.append(line)
        line, used = "", 0
        while size > room:  # a word longer than the line: cut it
            cut, taken = 0, 0
            while cut < len(word) and taken + _width(word[cut]) <= room:
                taken += _width(word[cut])
                cut += 1
            lines.append(word[:cut])
            word, size = word[cut:], size - taken
        line, used = word, size
    lines.append(line)
    return [line.rstrip() for line in lines]


def _terminal_columns() -> int | None:
    """The terminal's width when stdout is one; ``None`` for a pipe or a file (no folding:
    one row per line)."""
    if not sys.stdout.isatty():
        return None
    import shutil

    return shutil.get_terminal_size().columns


# git's diff colours: file headers bold, hunk headers cyan, removed red, added green.
_BOLD, _CYAN, _RED, _GREEN, _RESET = "\033[1m", "\033[36m", "\033[31m", "\033[32m", "\033[0m"


def _painted(lines: Iterable[str], colour: bool) -> list[str]:
    """Unified-diff lines, coloured as git colours them when ``colour``.

    Lines before the first hunk are the ``---``/``+++`` file headers; after it, a
    removed line may start with ``---`` too, and is red like any other.
    """
    if not colour:
        return list(lines)
    painted, in_hunk = [], False
    for line in lines:
        in_hunk = in_hunk or line.startswith("@@")
        code = (_BOLD if not in_hunk else _CYAN if line.startswith("@@")
                else _RED if line.startswith("-") else _GREEN if line.startswith("+") else "")
        painted.append(f"{code}{line}{_RESET}" if code else line)
    return painted


def _value(value: Any) -> str:
    """A setting's value in a text diff: JSON (so 0.2 and "0.2" differ), ``(none)`` if absent."""
    return "(none)" if value is None else json.dumps(value, ensure_ascii=False)


def _change(key: str, old: Any, new: Any) -> str:
    return f"{key}: {_value(old)} → {_value(new)}"


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
        return
    if result.changed:
        message("changed: " + ", ".join(result.changed))
    if result.provisional:
        message(f"provisional: made off the registry branch; version {v.version} is settled "
                "when it lands there")


def loaded(prompt: PromptVersion, formatted: Any, as_json: bool) -> None:
    """After ``load``: the template or the formatted prompt, and nothing else."""
    if as_json:
        _json({**prompt.to_dict(), "formatted": formatted})
    else:
        body(prompt.template if formatted is None else formatted)


def body(template: Any) -> None:
    """A template or a formatted prompt, as ``load`` prints it: text as it is, chat
    messages as JSON."""
    if isinstance(template, str):
        sys.stdout.write(template if template.endswith("\n") else template + "\n")
    else:
        _json(template)


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
    if v.response_format is not None:
        lines.append("response_format: " + json.dumps(v.response_format, ensure_ascii=False))
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
         (s.problem and f"INVALID: {s.problem}") or s.description)
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
        print(_change("description", *d.description_change))
    for key, (old, new) in d.model_config_changes.items():
        print(_change(f"model_config.{key}", old, new))
    for key, (old, new) in d.tag_changes.items():
        print(_change(f"tags.{key}", old, new))
    if d.variables_added:
        print("variables added: " + ", ".join(d.variables_added))
    if d.variables_removed:
        print("variables removed: " + ", ".join(d.variables_removed))
    for line in _painted(d.template_diff, _colour()):
        print(line)


def alias_set(info: AliasInfo, as_json: bool) -> None:
    """After ``alias set``."""
    if as_json:
        _json(info.to_dict())
        return
    print(f"{info.name}@{info.alias} → version {info.version} (commit {_short(info.commit)})")
    if info.unchanged:
        message(f"unchanged: {info.alias} already points at version {info.version}")


def aliases(found: list[AliasInfo], as_json: bool) -> None:
    """``alias list``."""
    if as_json:
        _json([a.to_dict() for a in found])
        return
    if not found:
        message("no aliases")
        return
    _table(None, ("name", "alias", "version", "commit"),
           ((a.name, a.alias, a.version if a.version is not None else f"none: {a.problem}",
             _short(a.commit)) for a in found))


def alias_history(moves: list[AliasMove], as_json: bool) -> None:
    """``alias history``: every move, newest last."""
    if as_json:
        _json([m.to_dict() for m in moves])
        return
    if not moves:
        message("no alias moves recorded")
        return

    def version(number: int | None, commit: str | None) -> str:
        return "-" if commit is None else f"v{number}" if number else _short(commit)

    _table(moves[0].name, ("date", "alias", "from", "to", "by", "reason"), (
        (f"{m.date:%Y-%m-%d %H:%M}", m.alias, version(m.from_version, m.from_commit),
         version(m.to_version, m.to_commit), m.author,
         ("FORCED: " if m.forced else "") + (m.reason or ""))
        for m in moves
    ))


def check_report(report: CheckReport, findings: Sequence[Finding], as_json: bool) -> None:
    """``check``: every problem, one per line (files, then the history), then a count;
    warnings on stderr."""
    if as_json:
        _json({**report.to_dict(), "history": [
            {"kind": f.kind, "name": f.name, "number": f.number, "detail": f.detail}
            for f in findings]})
        return
    for problem in report.problems:
        print(str(problem))
    for finding in findings:
        if finding.failing:
            print(f"history: {finding.detail}")
        else:
            message(f"note: {finding.detail}")
    for note in report.warnings:
        warning(str(note))
    count = len(report.problems) + sum(f.failing for f in findings)
    message(f"{report.files} file(s) checked, {count} problem(s)")


# -- review: ``diff --base`` -------------------------------------------------------------

# GitHub refuses comments over 65,536 characters; stop adding prompts well before that.
_MARKDOWN_LIMIT = 60_000


def review(r: Review, fmt: str) -> None:
    """``diff --base``: every prompt changed between two refs, as text, Markdown or JSON."""
    if fmt == "json":
        _json(r.to_dict())
    elif fmt == "markdown":
        print(_review_markdown(r))
    else:
        print(_review_text(r, _colour()))


def _review_counts(r: Review, sep: str) -> str:
    counts = r.counts
    parts = [f"{counts[s]} {s}" for s in ("added", "removed", "renamed", "changed") if counts[s]]
    return sep.join(parts)


def _change_title(c: PromptChange) -> str:
    return c.status + (f" from {c.old_name}" if c.old_name else "")


def _review_text(r: Review, colour: bool) -> str:
    lines = [f"{r.folder} from {r.base} ({_short(r.base_commit)}) to {r.head} "
             f"({_short(r.head_commit)}): {_review_counts(r, ', ') or 'no prompt changes'}"
             + (f"; {len(r.breaking)} breaking" if r.breaking else "")]
    for c in r.changes:
        lines += ["", f"{c.name}: {_change_title(c)}" + ("  ⚠ BREAKING" if c.breaking else "")]
        lines += [f"  ⚠ {reason}" for reason in c.breaking]
        d = c.diff
        if d.description_change:
            lines.append("  " + _change("description", *d.description_change))
        lines += ["  " + _change(f"model_config.{k}", a, b)
                  for k, (a, b) in d.model_config_changes.items()]
        lines += ["  " + _change(f"tags.{k}", a, b) for k, (a, b) in d.tag_changes.items()]
        if c.response_format_change:
            lines.append("  " + _change("response_format", *c.response_format_change))
        if d.variables_added:
            lines.append("  variables added: " + ", ".join(d.variables_added))
        if d.variables_removed:
            lines.append("  variables removed: " + ", ".join(d.variables_removed))
        lines += ["  " + line for line in _painted(d.template_diff, colour)]
    return "\n".join(lines)


def _review_markdown(r: Review) -> str:
    title = "## Prompt changes: " + (_review_counts(r, " · ") or "none")
    if r.breaking:
        title += f" · ⚠ {len(r.breaking)} breaking"
    span = (f"Prompts in `{r.folder}` from `{r.base}` (`{_short(r.base_commit)}`) "
            f"to `{r.head}` (`{_short(r.head_commit)}`).")
    head = [title, "", span]
    if r.breaking:
        names = ", ".join(f"`{c.name}`" for c in r.breaking)
        head += ["", (f"> ⚠ **Breaking:** {names} — code that loads these prompts must change "
                      "with them (details below).")]
    text = "\n".join(head)
    for shown, c in enumerate(r.changes):
        section = "\n\n" + _markdown_section(c)
        if len(text) + len(section) > _MARKDOWN_LIMIT:
            rest = len(r.changes) - shown
            return text + (f"\n\n…and {rest} more prompt(s), left out to fit a comment: run "
                           f"`promptctl diff --base {r.base}` to see every change.")
        text += section
    return text


def _markdown_section(c: PromptChange) -> str:
    mark = "⚠ " if c.breaking else ""
    moved = f" from `{c.old_name}`" if c.old_name else ""
    lines = [f"### {mark}`{c.name}` — {c.status}{moved}"]
    if c.breaking:
        lines += [""] + [f"- ⚠ **Breaking:** {_md_text(reason)}" for reason in c.breaking]
    d = c.diff
    if d.variables_added or d.variables_removed:
        parts = [f"{label} " + ", ".join(f"`{v}`" for v in names)
                 for label, names in (("added", d.variables_added),
                                      ("removed", d.variables_removed)) if names]
        lines += ["", "**Variables:** " + "; ".join(parts)]
    rows = [("description", *d.description_change)] if d.description_change else []
    rows += [(f"model_config.{k}", a, b) for k, (a, b) in d.model_config_changes.items()]
    rows += [(f"tags.{k}", a, b) for k, (a, b) in d.tag_changes.items()]
    if c.response_format_change:
        rows.append(("response_format", *c.response_format_change))
    if rows:
        lines += ["", "| setting | before | after |", "|---|---|---|"]
        lines += [f"| {_md_code(key)} | {_md_value(a)} | {_md_value(b)} |" for key, a, b in rows]
    if d.template_diff:
        fence = "`" * max(3, 1 + max(_longest_backticks(line) for line in d.template_diff))
        lines += ["", f"{fence}diff", *d.template_diff, fence]
    elif c.status == "renamed":
        lines += ["", "Content unchanged."]
    return "\n".join(lines)


def _md_value(value: Any) -> str:
    """A table cell: JSON in a code span, ``—`` for absent; never breaks the table."""
    return "—" if value is None else _md_code(json.dumps(value, ensure_ascii=False))


def _md_code(text: str) -> str:
    ticks = "`" * (1 + _longest_backticks(text))
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    escaped = text.replace("|", "\\|")  # GitHub splits table cells even inside code spans
    return f"{ticks}{pad}{escaped}{pad}{ticks}"


def _md_text(text: str) -> str:
    """Plain text with Markdown's active characters escaped (``user_name`` stays as is)."""
    return "".join(f"\\{ch}" if ch in "\\`*_[]<>|#" else ch for ch in text)


def _longest_backticks(text: str) -> int:
    """The longest run of backticks: a fence or code span must be longer to hold ``text``."""
    return max((len(run) for run in re.findall("`+", text)), default=0)


# -- lock files and shallow clones ----------------------------------------------------------


def locked(path: str, lock: Lock, as_json: bool) -> None:
    """After ``lock``: each pin, then which file now holds them."""
    if as_json:
        _json({"file": path, "prompts": [pin.to_dict() for pin in lock.prompts]})
        return
    for pin in lock.prompts:
        print(f"{pin.ref}  version {pin.version}  commit {_short(pin.commit)}  "
              f"sha256 {pin.sha256[:12]}")
    message(f"wrote {path} ({len(lock.prompts)} reference(s))")


def lock_check(path: str, drifts: list[LockDrift], as_json: bool) -> None:
    """``lock --check``: each change since the file was written, one line each."""
    if as_json:
        _json({"file": path, "current": not drifts, "drifts": [d.to_dict() for d in drifts]})
        return
    for drift in drifts:
        print(drift.description)
    if drifts:
        message(f"{path} is stale: {len(drifts)} change(s); run 'promptctl lock' to update it")
    else:
        message(f"{path} is current")


def synced(result: SyncResult, as_json: bool) -> None:
    """After ``sync``: each alias that moved, then what was joined and pushed."""
    if as_json:
        _json(result.to_dict())
        return

    def label(number: int | None) -> str:
        return "-" if number is None else f"v{number}"

    for change in result.moved:
        print(f"{change.name}@{change.alias}: {label(change.from_version)} → "
              f"{label(change.to_version)}")
    message(f"{len(result.moved)} alias(es) moved; alias log: {result.alias_log}"
            + (f"; pushed {', '.join(result.pushed)}" if result.pushed else ""))


def deepened(remote: str) -> None:
    """After a command that had to fetch a shallow clone's full history first."""
    message(f"note: fetched the full history of this shallow clone from {remote!r} "
            "to number versions")


def index_progress() -> Callable[[int, int], None]:
    """Say so on stderr while the version index is first built over a long history.

    On a terminal, a progress line kept current; elsewhere (CI logs, pipes) one line,
    once, so a slow first command does not look hung. A short history, indexed before
    the first report, says nothing.
    """
    if sys.stderr.isatty():
        def bar(done: int, total: int) -> None:
            share = f"{100 * done // total:3d}% " if total else ""
            end = "\n" if total and done >= total else ""
            print(f"\rindexing history: {share}({done}/{total or '?'} commits)", end=end,
                  file=sys.stderr, flush=True)

        return bar

    said = False

    def once(done: int, total: int) -> None:
        nonlocal said
        if not said and done < total:
            said = True
            message(f"indexing history ({total} commits)…")

    return once
