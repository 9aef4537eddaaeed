"""The ``promptctl`` command: a Typer app over :class:`promptctl.Registry`.

This is the one place where errors become a message and an exit code: every
``PromptctlError`` is printed as one ``error: …`` line on stderr, never a traceback.

``load``, ``show``, ``list``, ``search``, ``history``, ``register`` and ``alias set``
take a fast path (``fast``) that skips Typer; every other command line, and any of
theirs it does not fully understand, goes to the Typer app. Before both, a ``load``
that an earlier one kept the answer to is answered from it (``quick``).
"""

from __future__ import annotations

import os
import sys

from ..errors import EXIT_FAILED, EXIT_USAGE, MissingVariables, PromptctlError


def main(argv: list[str] | None = None, *, quick_exit: bool = False) -> None:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``) and exit with its code.

    ``quick_exit``: this is the whole process (see :func:`entry`).
    """
    args = sys.argv[1:] if argv is None else argv
    try:
        code = _run(args, quick_exit)
    except MissingVariables as exc:  # only `load` formats: say how to give the values there
        hint = " ".join(f"--var {name}=…" for name in exc.names)
        typos = "".join(f"; --var {name} is not a variable" for name in exc.unused)
        # The library's message suggests allow_partial=True; on the command line, --var.
        _fail(f"missing value for variable(s): {', '.join(exc.names)} (pass {hint}{typos})",
              exc.exit_code)
    except PromptctlError as exc:
        _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except BrokenPipeError:  # `promptctl load … | head`: the reader left, that is fine
        sys.stderr.close()
        sys.exit(0)
    except OSError as exc:  # the disk, the terminal: what the OS refused, in its words
        _fail(f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""),
              EXIT_FAILED)
    except Exception as exc:  # noqa: BLE001 - a last resort: one line, never a traceback
        _fail(f"internal error: {type(exc).__name__}: {exc} (please report it with the "
              "command that caused it)", EXIT_FAILED)
    sys.exit(code)


def entry() -> None:
    """The console script (and ``python -m promptctl``): :func:`main`, and a quick exit
    after the fast path.

    A command the fast path ran has closed its registry (the index, the ``cat-file``
    process) and flushed its output inside :func:`main`; what is left of the process is
    the interpreter's teardown, ~15 ms of freeing modules that nothing reads. So it ends
    with ``os._exit``. Every other command exits the normal way.
    """
    main(quick_exit=True)


def _run(args: list[str], quick_exit: bool) -> int:
    """The command line's exit code (0 for success); raises what the command raised."""
    from . import quick

    done = quick.run(args)
    if not done:
        from . import fast  # imports the registry and all a load needs: ~60 ms

        done = fast.run(args)
    if done:
        # Inside main's handlers: a reader that left (EPIPE) is reported as for any command.
        sys.stdout.flush()
        sys.stderr.flush()
        if quick_exit:
            os._exit(0)
        return 0
    return _typer(args)


def _typer(args: list[str]) -> int:
    """Run ``args`` through the Typer app (imported here: the fast path never needs it)."""
    from typer.exceptions import Exit, TyperException

    from .app import command

    try:
        code = command().main(args=args, prog_name="promptctl", standalone_mode=False)
    except TyperException as exc:  # Typer's usage errors (bad option, missing argument …)
        _fail(exc.format_message(), getattr(exc, "exit_code", EXIT_USAGE))
    except Exit as exc:
        sys.exit(exc.exit_code)
    return code if isinstance(code, int) else 0


def _fail(message: str, code: int) -> None:
    first_line = message.strip().splitlines()[0] if message.strip() else "failed"
    print(f"error: {first_line}", file=sys.stderr)
    sys.exit(code)
