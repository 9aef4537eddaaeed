"""Commands on prompts: init, register, edit, load, show, list, history, diff, search, check.

Each docstring is the command's ``--help``; a line holding only ``\\b`` keeps the
example lines below it as they are written (click rewraps every other paragraph).
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import InvalidInput
from ..formats.promptfile import PromptContent
from . import completion, fast, views, writes
from .help import Command
from .state import state

# Typer needs the Optional[...] spelling to build options on Python 3.10.
# ruff: noqa: UP045

Name = Annotated[str, typer.Argument(help="Prompt name, e.g. support/summarize.",
                                      autocompletion=completion.prompt_names)]
Ref = Annotated[str, typer.Argument(
    metavar="REF", help="name (newest), name/3 (version 3), name@alias, or prompts:/… form.",
    autocompletion=completion.references)]
Message = Annotated[Optional[str], typer.Option("--message", "-m", help="Version note.")]
Author = Annotated[Optional[str], typer.Option(
    metavar="'NAME <EMAIL>'", help="Commit as this author (default: your Git identity).")]


def add_commands(app: typer.Typer) -> None:
    """Register this module's commands on ``app``."""
    for command in (init, register, edit, load, show, list_, history, diff, search, check):
        name = command.__name__.rstrip("_")
        app.command(name, cls=Command)(command)


def init(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(
        metavar="[PATH]", help="Folder to make a registry (made if missing).")] = Path("."),
    author: Author = None,
) -> None:
    """Make a registry: promptctl.yaml and prompts/, in a Git repository (git init if needed).

    Running it again changes nothing. Inside an existing repository it makes a registry
    folder there, committing only promptctl.yaml.

    Examples:

    \b
      promptctl init                  # this folder
      promptctl init prompts-registry # a folder of this repository
    """
    from ..registry import Registry

    registry = Registry.init(path, author=author)
    views.message(f"registry ready at {registry.root}")


def register(
    ctx: typer.Context,
    name: Name,
    text: Annotated[Optional[str], typer.Option("--text", "-t", help="The template text.")] = None,
    file: Annotated[Optional[str], typer.Option(
        "--file", "-f", help="A template, or a whole prompt file (YAML with a template key); "
                             "'-' reads stdin.")] = None,
    message: Message = None,
    model_config: Annotated[Optional[list[str]], typer.Option(
        metavar="KEY=VALUE",
        help="A model setting (model_name, temperature, max_tokens …); numbers, true/false "
             "and JSON stay typed. Repeat for more.")] = None,
    tag: Annotated[Optional[list[str]], typer.Option(
        metavar="KEY=VALUE", help="A tag (text). Repeat for more.")] = None,
    description: Annotated[Optional[str], typer.Option(
        metavar="TEXT", help="What the prompt is for.")] = None,
    response_format: Annotated[Optional[str], typer.Option(
        metavar="JSON|@FILE",
        help="JSON Schema of the expected output: JSON text, or @ and a JSON or YAML "
             "file.")] = None,
    author: Author = None,
    push: Annotated[bool, typer.Option(
        "--push", help="Push it to origin (re-made on the remote's tip if that moved).")] = False,
) -> None:
    """Register a new version of a prompt (nothing happens if the content is unchanged).

    Prints the name, version and commit. Model config values are typed (0.2 stays a
    number).

    Examples:

    \b
      promptctl register greet -t 'Hello {{ name }}!' -m "First greeting"
      promptctl register support/summarize -f prompt.yaml -m "Shorter summaries"
      echo 'Hi {{ name }}' | promptctl register greet -f - -m "Less formal"
      promptctl register greet -t 'Hi {{ name }}' --model-config temperature=0.2 \\
          --tag team=web --response-format '{"type": "object"}'
    """
    writes.register(state(ctx), name, text, file, message, model_config, tag, description,
                    response_format, author, push)


def edit(
    ctx: typer.Context,
    name: Name,
    message: Annotated[Optional[str], typer.Option(
        "--message", "-m", help="Version note (default: 'Edit NAME').")] = None,
    author: Author = None,
    push: Annotated[bool, typer.Option("--push", help="Push the new version to origin.")] = False,
) -> None:
    """Edit a prompt's newest version in $VISUAL or $EDITOR, then register the result.

    The whole prompt file opens in your editor (else vi); when you save and quit, it is
    registered as the next version. Unchanged, nothing happens; an editor that exits
    non-zero aborts (exit 1). An edit that cannot be registered is kept, and its path
    printed, so nothing you typed is lost.

    Examples:

    \b
      promptctl edit support/summarize -m "Mention deadlines"
      EDITOR="code --wait" promptctl edit greet
    """
    from ..formats.promptdump import dump_prompt
    from ..formats.promptfile import parse_prompt
    from ..formats.references import validate_name
    from .editor import edit_file

    validate_name(name)  # before the editor opens: `edit x@production` would fail after it
    st = state(ctx)
    newest = st.registry().load_prompt(name, cache_ttl_seconds=0)
    original = dump_prompt(PromptContent(newest.template, newest.description,
                                         newest.model_config, newest.tags,
                                         newest.response_format))
    with edit_file(original, name) as draft:
        if draft.text == original:
            views.message(f"no changes: {name} stays at version {newest.version}")
            return
        # The file handed out was a whole prompt file: one that is not any more is an
        # error, not a template made of broken YAML.
        content = parse_prompt(draft.text, str(draft.path))
        result = st.registry().register(name, content, message or f"Edit {name}",
                                        author=author, push=push)
    views.registered(result, st.json)


def load(
    ctx: typer.Context,
    ref: Ref,
    var: Annotated[Optional[list[str]], typer.Option(
        metavar="KEY=VALUE", help="A variable's value. Repeat for more.")] = None,
    vars_file: Annotated[Optional[Path], typer.Option(
        metavar="FILE", help="JSON or YAML file of variable values (--var wins).")] = None,
    lock_file: Annotated[Optional[Path], typer.Option(
        metavar="FILE", help="Resolve REF through this lock file (see 'promptctl lock').")] = None,
) -> None:
    """Print a prompt's template, or the formatted prompt when values are given.

    Only the prompt goes to stdout, so it pipes; a chat prompt prints as JSON.

    Examples:

    \b
      promptctl load support/summarize@production
      promptctl load support/summarize/3 --var ticket="Checkout fails" --var num_sentences=2
      promptctl load prompts:/support/triage@production --vars-file values.json
    """
    fast.load(state(ctx), ref, var, vars_file, lock_file)  # the fast path runs the same


def show(ctx: typer.Context, ref: Ref) -> None:
    """Show one version: metadata, aliases, variables and template.

    Examples:

    \b
      promptctl show support/summarize@production
      promptctl --json show support/summarize/2
    """
    fast.show(state(ctx), ref)


def list_(ctx: typer.Context) -> None:
    """List every prompt with its newest version and aliases.

    Examples:

    \b
      promptctl list
      promptctl list --json
    """
    fast.list_prompts(state(ctx))  # the fast path runs the same


def history(ctx: typer.Context, name: Name) -> None:
    """Every version of a prompt: number, commit, date, author, note, aliases.

    Examples:

    \b
      promptctl history support/summarize
      promptctl history support/summarize --json
    """
    fast.history(state(ctx), name)


class DiffFormat(str, Enum):
    """How ``diff`` prints: ``markdown`` is made to be posted as a pull-request comment."""

    text = "text"
    markdown = "markdown"
    json = "json"


def diff(
    ctx: typer.Context,
    name: Annotated[Optional[str], typer.Argument(
        metavar="[NAME]", help="Prompt name.", autocompletion=completion.prompt_names)] = None,
    from_ref: Annotated[Optional[str], typer.Argument(
        metavar="[FROM]", help="Version number, alias or latest.",
        autocompletion=completion.version_specs)] = None,
    to_ref: Annotated[Optional[str], typer.Argument(
        metavar="[TO]", help="Version number, alias or latest.",
        autocompletion=completion.version_specs)] = None,
    base: Annotated[Optional[str], typer.Option(
        metavar="REF", help="Git ref (branch, tag, commit): review every prompt changed since "
                            "it (since the merge base, as a pull request does).")] = None,
    head: Annotated[Optional[str], typer.Option(
        metavar="REF", help="Git ref to review up to (default: HEAD).")] = None,
    exact: Annotated[bool, typer.Option(
        "--exact", help="With --base: compare with REF's tip itself, not the merge base.")
    ] = False,
    fmt: Annotated[DiffFormat, typer.Option(
        "--format", metavar="[text|markdown|json]",
        help="Output format; markdown (with --base) is a pull-request comment.")
    ] = DiffFormat.text,
    fail_on_breaking: Annotated[bool, typer.Option(
        "--fail-on-breaking",
        help="Exit 1 when a change can break callers (variables added or removed, a prompt "
             "removed or renamed, text switched to chat).")] = False,
) -> None:
    """Compare two versions of a prompt, or review every prompt changed between two Git refs.

    NAME FROM TO compares two versions (numbers, aliases or latest). --base REF [--head REF]
    lists every prompt added, removed, renamed or changed, breaking changes flagged;
    --format markdown is ready to post as a pull-request comment. Template diffs are
    coloured on a terminal.

    Examples:

    \b
      promptctl diff support/summarize production staging
      promptctl diff support/summarize 2 latest --fail-on-breaking
      promptctl diff --base origin/main --format markdown > comment.md
    """
    st = state(ctx)
    if base is not None:
        if name is not None:
            raise InvalidInput("give either NAME FROM TO or --base REF, not both")
        review = st.registry().review(base, head, exact=exact)
        views.review(review, "json" if st.json else fmt.value)
        _fail_if(fail_on_breaking, len(review.breaking))
        return
    if head is not None or exact:
        raise InvalidInput(f"{'--head' if head is not None else '--exact'} needs --base REF")
    if name is None or from_ref is None or to_ref is None:
        raise InvalidInput("give NAME FROM TO (two versions of a prompt) or --base REF (a review)")
    if fmt is DiffFormat.markdown:
        raise InvalidInput("--format markdown needs --base REF")
    compared = st.registry().diff(name, from_ref, to_ref)
    views.diff(compared, st.json or fmt is DiffFormat.json)
    _fail_if(fail_on_breaking, len(compared.breaking))


def _fail_if(fail_on_breaking: bool, breaking: int) -> None:
    if fail_on_breaking and breaking:
        views.breaking(breaking)
        raise typer.Exit(1)


def search(
    ctx: typer.Context,
    filter_string: Annotated[Optional[str], typer.Argument(
        metavar="[FILTER]",
        help="name, tags.KEY, alias, model_config.KEY or template compared with =, !=, "
             "LIKE, ILIKE, <, >; combined with AND, OR, NOT and parentheses.")] = None,
) -> None:
    """Find prompts by name, tags, aliases, model config or template text.

    Without FILTER, every prompt. Values go in single or double quotes.

    Examples:

    \b
      promptctl search "tags.team = 'support' AND alias = 'production'"
      promptctl search "name LIKE 'support/%'"
      promptctl search "template LIKE '%refund%' AND NOT model_config.temperature > 0.5"
    """
    fast.search(state(ctx), filter_string)


def check(
    ctx: typer.Context,
    paths: Annotated[Optional[list[Path]], typer.Argument(
        metavar="[PATH]...", help="Files or folders (default: the registry's prompts/).")] = None,
    fix: Annotated[bool, typer.Option(
        "--fix", help="First repair what can be: put back a register a kill interrupted, "
        "record alias moves that have no alias-log record.")] = False,
) -> None:
    """Validate prompt files; exit 1 listing every problem.

    Examples:

    \b
      promptctl check
      promptctl check prompts/support/summarize.yaml
      promptctl check --fix
    """
    from ..checker import check_paths

    st = state(ctx)
    if fix:
        for done in st.registry().fix():
            views.message(f"fixed: {done}")
    registry = st.registry() if not paths else None
    targets = paths or [st.registry().root / "prompts"]
    report = check_paths(targets, root=registry.root if registry else None)
    findings = registry.findings() if registry is not None else []
    views.check_report(report, findings, st.json)
    if report.problems or any(f.failing for f in findings):
        raise typer.Exit(1)
