"""Commands on prompts: init, register, load, show, list, history, diff, search, check."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ..errors import InvalidInput
from ..formats.promptfile import PromptContent, parse_prompt_source
from . import views
from .state import parse_pairs, state

# Typer needs the Optional[...] spelling to build options on Python 3.10.
# ruff: noqa: UP045

Pairs = Annotated[Optional[list[str]], typer.Option(metavar="KEY=VALUE")]


def add_commands(app: typer.Typer) -> None:
    """Register this module's commands on ``app``."""
    for command in (init, register, load, show, list_, history, diff, search, check):
        name = command.__name__.rstrip("_")
        app.command(name)(command)


def init(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Folder to make a registry (made if missing).")] = Path("."),
    author: Annotated[Optional[str], typer.Option(help="Commit as 'Name <email>'.")] = None,
) -> None:
    """Make a registry: promptctl.yaml and prompts/, in a Git repository (git init if needed)."""
    from ..registry import Registry

    registry = Registry.init(path, author=author)
    views.message(f"registry ready at {registry.root}")


def register(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Prompt name, e.g. support/summarize.")],
    text: Annotated[Optional[str], typer.Option("--text", "-t", help="The template text.")] = None,
    file: Annotated[
        Optional[str],
        typer.Option("--file", "-f", help="A template or whole prompt file; '-' reads stdin."),
    ] = None,
    message: Annotated[Optional[str], typer.Option("--message", "-m", help="Version note.")] = None,
    model_config: Pairs = None,
    tag: Pairs = None,
    description: Annotated[Optional[str], typer.Option(help="What the prompt is for.")] = None,
    author: Annotated[Optional[str], typer.Option(help="Commit as 'Name <email>'.")] = None,
    push: Annotated[bool, typer.Option(
        "--push", help="Push it to origin (re-made on the remote's tip if that moved).")] = False,
) -> None:
    """Register a new version of a prompt (nothing happens if the content is unchanged)."""
    content = _content_from_options(text, file, model_config, tag, description)
    st = state(ctx)
    result = st.registry().register(name, content, message, author=author, push=push)
    views.registered(result, st.json)


def load(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="name, name/3, name@alias or prompts:/… form.")],
    var: Pairs = None,
    vars_file: Annotated[
        Optional[Path], typer.Option(help="JSON or YAML file of variable values.")
    ] = None,
    lock_file: Annotated[
        Optional[Path],
        typer.Option(help="Resolve REF through this lock file (see 'promptctl lock')."),
    ] = None,
) -> None:
    """Print a prompt's template, or the formatted prompt when values are given."""
    st = state(ctx)
    prompt = st.registry().load_prompt(ref, cache_ttl_seconds=0, lock_file=lock_file)
    values: dict[str, Any] = _read_vars_file(vars_file) if vars_file else {}
    values.update(parse_pairs(var, "--var"))
    views.loaded(prompt, prompt.format(**values) if values or vars_file else None, st.json)


def show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="name, name/3, name@alias or prompts:/… form.")],
) -> None:
    """Show one version: metadata, aliases, variables and template."""
    st = state(ctx)
    views.version(st.registry().load_prompt(ref, cache_ttl_seconds=0), st.json)


def list_(ctx: typer.Context) -> None:
    """List every prompt with its newest version and aliases."""
    st = state(ctx)
    views.summaries(st.registry().list_prompts(), st.json)


def history(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Prompt name.")]) -> None:
    """Every version of a prompt: number, commit, date, author, note, aliases."""
    st = state(ctx)
    views.history(st.registry().history(name), st.json)


class DiffFormat(str, Enum):
    """How ``diff`` prints: ``markdown`` is made to be posted as a pull-request comment."""

    text = "text"
    markdown = "markdown"
    json = "json"


def diff(
    ctx: typer.Context,
    name: Annotated[Optional[str], typer.Argument(metavar="[NAME]", help="Prompt name.")] = None,
    from_ref: Annotated[
        Optional[str], typer.Argument(metavar="[FROM]", help="Version, alias or latest.")
    ] = None,
    to_ref: Annotated[
        Optional[str], typer.Argument(metavar="[TO]", help="Version, alias or latest.")
    ] = None,
    base: Annotated[
        Optional[str],
        typer.Option(help="Git ref (branch, tag, commit): review every prompt changed since it."),
    ] = None,
    head: Annotated[
        Optional[str], typer.Option(help="Git ref to review up to (default: HEAD).")
    ] = None,
    fmt: Annotated[DiffFormat, typer.Option("--format", help="Output format.")] = DiffFormat.text,
) -> None:
    """Compare two versions of a prompt, or review every prompt changed between two Git refs.

    NAME FROM TO compares two versions (numbers, aliases or latest). --base REF [--head REF]
    lists every prompt added, removed, renamed or changed, breaking changes flagged;
    --format markdown is ready to post as a pull-request comment.
    """
    st = state(ctx)
    if base is not None:
        if name is not None:
            raise InvalidInput("give either NAME FROM TO or --base REF, not both")
        views.review(st.registry().review(base, head), "json" if st.json else fmt.value)
        return
    if head is not None:
        raise InvalidInput("--head needs --base REF")
    if name is None or from_ref is None or to_ref is None:
        raise InvalidInput("give NAME FROM TO (two versions of a prompt) or --base REF (a review)")
    if fmt is DiffFormat.markdown:
        raise InvalidInput("--format markdown needs --base REF")
    views.diff(st.registry().diff(name, from_ref, to_ref), st.json or fmt is DiffFormat.json)


def search(
    ctx: typer.Context,
    filter_string: Annotated[
        Optional[str],
        typer.Argument(metavar="[FILTER]", help="e.g. \"tags.team = 'support' AND alias = 'production'\""),
    ] = None,
) -> None:
    """Find prompts by name, tags, aliases, model config or template text."""
    st = state(ctx)
    views.summaries(st.registry().search_prompts(filter_string), st.json)


def check(
    ctx: typer.Context,
    paths: Annotated[
        Optional[list[Path]], typer.Argument(help="Files or folders (default: the registry's prompts/).")
    ] = None,
) -> None:
    """Validate prompt files; exit 1 listing every problem."""
    from ..checker import check_paths

    st = state(ctx)
    targets = paths or [st.registry().root / "prompts"]
    report = check_paths(targets)
    views.check_report(report, st.json)
    if report.problems:
        raise typer.Exit(1)


def _content_from_options(
    text: str | None,
    file: str | None,
    model_config: list[str] | None,
    tag: list[str] | None,
    description: str | None,
) -> PromptContent:
    if (text is None) == (file is None):
        raise InvalidInput("give the template with exactly one of --text/-t or --file/-f")
    if file is not None:
        source = "<stdin>" if file == "-" else file
        try:
            raw = sys.stdin.read() if file == "-" else Path(file).read_text()
        except OSError as exc:
            raise InvalidInput(f"cannot read {file}: {exc.strerror}") from exc
        base = parse_prompt_source(raw, source)
    else:
        base = PromptContent(text or "")
    config = {**base.model_config, **{k: _typed(v) for k, v in parse_pairs(model_config, "--model-config").items()}}
    return PromptContent(
        base.template,
        description if description is not None else base.description,
        config,
        {**base.tags, **parse_pairs(tag, "--tag")},
        base.response_format,
    )


def _typed(value: str) -> Any:
    """``0.2`` → 0.2, ``400`` → 400, ``true`` → True, ``["a"]`` → list; anything else stays text."""
    try:
        return json.loads(value)
    except ValueError:
        return value


def _read_vars_file(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{path} is not valid JSON or YAML") from exc
    if not isinstance(data, dict):
        raise InvalidInput(f"{path} must hold a mapping of variable names to values")
    return data
