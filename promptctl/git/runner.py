"""Running git: one place that starts git processes and reads git's words.

Every git command promptctl runs goes through :class:`Runner`, and this is the only
module that reads what git writes on stderr: :func:`translate` turns it into one of the
typed errors of ``promptctl.errors`` (a held lock, a missing identity, an unsupported
filter, anything else as :class:`GitError` with git's own first line).

Plain ``subprocess``, not GitPython's command layer: importing GitPython costs ~30 ms
and it runs ``git version`` twice before the first command, which a command that spawns
two or three git processes in all notices. Commands that talk to a remote fail rather
than wait for a password (``GIT_TERMINAL_PROMPT=0``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO

from ..errors import GitError, IdentityMissing, PromptctlError, RefLocked

# Locks git takes on refs and the index; a second writer meets "File exists".
_PIPE_BYTES = 1 << 20  # the most an unprivileged process may ask for, by default
_LOCK_WORDS = ("cannot lock ref", ".lock': File exists", "Unable to create")


def translate(command: str, stderr: str) -> PromptctlError:
    """Turn git's stderr for ``command`` into our error: the only place git's words are read."""
    if any(words in stderr for words in ("Author identity unknown", "Committer identity unknown",
                                         "empty ident name")):
        return IdentityMissing()
    detail = first_line(stderr)
    if any(words in stderr for words in _LOCK_WORDS):
        return RefLocked(command, detail)
    return GitError(command, detail)


def failure(command: str, returncode: int, stderr: str) -> PromptctlError:
    """Our error for a git process that exited with ``returncode``: a signal that killed
    it is named (git itself said nothing, or only part of its words)."""
    if returncode >= 0:
        return translate(command, stderr)
    number = -returncode
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = f"signal {number}"
    said = [line.strip() for line in stderr.splitlines() if line.strip()]
    detail = f"killed by {name}" + (f" ({first_line(stderr)})" if said else "")
    return GitError(command, detail, signal=number)


def first_line(stderr: str) -> str:
    """Git's own words for what failed: its first ``fatal:``/``error:`` line, else its last."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    found = next((ln for ln in lines if ln.startswith(("fatal:", "error:"))),
                 lines[-1] if lines else "")
    return found.removeprefix("fatal: ").removeprefix("error: ") or "no reason given"


class Runner:
    """Runs git in one repository (``cwd``) with promptctl's fixed environment."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd

    def run(self, *args: str, input: bytes | str | None = None,
            env: Mapping[str, str] | None = None) -> str:
        """Run ``git ARGS`` and return its stdout; a failure raises our error for it."""
        result = self._run(args, input, env)
        if result.returncode != 0:
            raise failure(_command_name(args), result.returncode,
                          result.stderr.decode("utf-8", "replace"))
        return result.stdout.decode("utf-8", "surrogateescape")

    def run_bytes(self, *args: str, input: bytes | None = None) -> bytes:
        """Like :meth:`run`, stdout as bytes (for ``-z`` output holding any path)."""
        result = self._run(args, input, None)
        if result.returncode != 0:
            raise failure(_command_name(args), result.returncode,
                          result.stderr.decode("utf-8", "replace"))
        return result.stdout

    def try_run(self, *args: str, env: Mapping[str, str] | None = None) -> str | None:
        """Run ``git ARGS``; its stdout, or ``None`` when it exits non-zero (a "no" answer)."""
        result = self._run(args, None, env)
        if result.returncode != 0:
            return None
        return result.stdout.decode("utf-8", "surrogateescape")

    @contextlib.contextmanager
    def stream(self, *args: str) -> Iterator[IO[bytes]]:
        """Run ``git ARGS`` and yield its stdout as it comes (for walks of long histories)."""
        proc = subprocess.Popen(["git", *args], cwd=self.cwd, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=environment(None))
        assert proc.stdout is not None and proc.stderr is not None
        _widen_pipe(proc.stdout.fileno())
        try:
            yield proc.stdout
            stderr = proc.stderr.read()
            if proc.wait() != 0:
                raise failure(_command_name(args), proc.returncode,
                              stderr.decode("utf-8", "replace"))
        finally:
            proc.stdout.close()
            proc.stderr.close()
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    def start(self, *args: str, stderr: IO[bytes]) -> subprocess.Popen[bytes]:
        """Start a long-lived ``git ARGS`` fed through its stdin (stderr into ``stderr``,
        a file: a pipe nobody reads could fill and stall it)."""
        try:
            return subprocess.Popen(["git", *args], cwd=self.cwd, stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=stderr,
                                    env=environment(None))
        except OSError as exc:
            raise GitError(_command_name(args), exc.strerror or str(exc)) from exc

    def network(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run a git command that talks to a remote; the caller reads its exit code."""
        # No password prompts; and only these transports, whatever git's config allows
        # (``ext::`` would run a command).
        env = {**environment(None), "GIT_TERMINAL_PROMPT": "0",
               "GIT_ALLOW_PROTOCOL": "https:http:ssh:git:file"}
        return subprocess.run(["git", *args], cwd=self.cwd, env=env, input=input,
                              capture_output=True, text=True, check=False)

    def _run(self, args: Sequence[str], input: bytes | str | None,
             env: Mapping[str, str] | None) -> subprocess.CompletedProcess[bytes]:
        data = input.encode() if isinstance(input, str) else input
        try:
            return subprocess.run(["git", *args], cwd=self.cwd, input=data, capture_output=True,
                                  env=environment(env), check=False)
        except OSError as exc:  # no git at all, or the folder vanished
            raise GitError(_command_name(args), exc.strerror or str(exc)) from exc


def _widen_pipe(fd: int) -> None:
    """Let git run a megabyte ahead of the reader (Linux; elsewhere, or past the system's
    limit, the pipe stays as it is). With the usual 64 KiB, git stops while we parse what
    it wrote, and a long walk takes git's time plus ours instead of the longer of them."""
    with contextlib.suppress(AttributeError, OSError):
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)


def identity_env(author: tuple[str, str] | None) -> dict[str, str]:
    """Environment overrides that make ``author`` the author and committer (``None``: git's own)."""
    if author is None:
        return {}
    name, email = author
    return {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email}


def environment(extra: Mapping[str, str] | None) -> dict[str, str]:
    """The environment git runs in: ours, ``extra`` on top, git's messages in English
    whatever the user's locale (:func:`translate` reads them)."""
    return {**os.environ, "LC_ALL": "C", **(extra or {})}


def _command_name(args: Sequence[str]) -> str:
    """The git subcommand in ``args`` (past ``-c key=value`` pairs), for error messages."""
    words = iter(args)
    for word in words:
        if word == "-c":
            next(words, None)
        elif not word.startswith("-"):
            return word
    return "git"
