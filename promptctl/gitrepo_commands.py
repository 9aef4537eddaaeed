"""Running git: GitPython's command layer, and plain processes where it does not fit.

GitPython is imported on first use (never by a load), and this is the one place where
its ``GitCommandError`` and git's own words on stderr become our errors (``GitError``,
``IdentityMissing``). Commands that talk to a remote run as plain processes with
``GIT_TERMINAL_PROMPT=0``: they fail rather than wait for a password.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .errors import GitError, InvalidInput
from .gitrepo_files import GitFiles

if TYPE_CHECKING:
    import git


class GitCommands(GitFiles):
    """A repository that runs git commands (GitPython's ``git.Git``, started on first use)."""

    _cmd: git.Git | None = None

    def close(self) -> None:
        """Stop the helper processes; the object stays usable and restarts them on demand."""
        super().close()
        if self._cmd is not None:
            self._cmd.clear_cache()
            self._cmd = None

    def _git(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        input: str | None = None,
        check: bool = True,
    ) -> str | None:
        import tempfile

        from git.exc import GitCommandError

        cmd = self._git_cmd()
        try:
            if input is None:
                return str(cmd.execute(["git", *args], env=env, strip_newline_in_stdout=False))
            with tempfile.TemporaryFile() as stdin:
                stdin.write(input.encode())
                stdin.seek(0)
                return str(
                    cmd.execute(
                        ["git", *args], env=env, istream=stdin, strip_newline_in_stdout=False
                    )
                )
        except GitCommandError as exc:
            if not check:
                return None
            raise _translate(args[0], _stderr(exc)) from exc

    @contextlib.contextmanager
    def _stream(self, args: list[str]) -> Iterator[IO[bytes]]:
        from git.exc import GitCommandError

        proc = self._git_cmd().execute(["git", *args], as_process=True)
        try:
            yield proc.stdout
            proc.wait()
        except GitCommandError as exc:
            command = args[args.index("log")] if "log" in args else args[0]
            raise _translate(command, _stderr(exc)) from exc
        finally:
            proc.stdout.close()

    def _git_cmd(self) -> git.Git:
        if self._cmd is None:
            import git

            self._cmd = git.Git(self.root)
        return self._cmd


def identity_env(author: tuple[str, str] | None) -> dict[str, str]:
    env = dict(os.environ)
    if author:
        name, email = author
        env.update(
            GIT_AUTHOR_NAME=name, GIT_AUTHOR_EMAIL=email,
            GIT_COMMITTER_NAME=name, GIT_COMMITTER_EMAIL=email,
        )
    return env


def _stderr(exc: Any) -> str:
    text = exc.stderr if isinstance(exc.stderr, str) else str(exc.stderr or "")
    return text.strip().removeprefix("stderr:").strip().strip("'").strip()


def _translate(command: str, stderr: str) -> GitError | InvalidInput:
    """Turn git's stderr into one of our errors: the only place git's words are read."""
    if "Author identity unknown" in stderr or "Committer identity unknown" in stderr or (
        "empty ident name" in stderr
    ):
        return IdentityMissing()
    lines = [line for line in stderr.splitlines() if line.strip()]
    detail = next((ln for ln in lines if ln.startswith(("fatal:", "error:"))), lines[-1] if lines else "")
    return GitError(command, detail.removeprefix("fatal: ").removeprefix("error: "))


class IdentityMissing(InvalidInput):
    """Git has no user name or email to write commits with."""

    def __init__(self) -> None:
        super().__init__(
            "git does not know who you are: run 'git config --global user.name \"Your Name\"' "
            "and 'git config --global user.email you@example.com', or pass --author 'Name <email>'"
        )


def run_network(
    argv: list[str], *, cwd: Path | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a git command that talks to a remote: it fails rather than wait for a password."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    return subprocess.run(argv, cwd=cwd, env=env, input=input, capture_output=True, text=True,
                          check=False)


def first_error(stderr: str) -> str:
    """Git's own words for what failed: its first ``fatal:``/``error:`` line."""
    error = _translate("", stderr)
    return error.detail if isinstance(error, GitError) else str(error)


def run_plain(
    argv: list[str],
    command: str,
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    input: str | None = None,
) -> str:
    result = subprocess.run(
        argv, cwd=cwd, env=env, input=input, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise _translate(command, result.stderr)
    return result.stdout
