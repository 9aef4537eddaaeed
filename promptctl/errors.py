"""The one exception tree of promptctl: every exception it raises is defined here.

Every error a user can meet is a :class:`PromptctlError`. Each subclass builds its own
one-line message from its fields and carries the exit code the CLI returns for it, so
the CLI has a single place that turns errors into output (``promptctl.cli``).
"""

from __future__ import annotations

from collections.abc import Iterable

# Exit codes: what scripts and CI branch on.
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_CONFLICT = 4


class PromptctlError(Exception):
    """Root of every error promptctl raises; ``exit_code`` is what the CLI exits with."""

    exit_code = EXIT_FAILED


class GitError(PromptctlError):
    """Git failed in a way we did not anticipate; the message is git's own first line."""

    def __init__(self, command: str, detail: str, *, signal: int | None = None) -> None:
        self.command = command
        self.detail = detail
        self.signal = signal  # git was killed by this signal
        super().__init__(f"git {command} failed: {detail}")


class InvalidInput(PromptctlError):
    """The user gave us something we cannot use: a bad name, reference, filter or value."""

    exit_code = EXIT_USAGE


class InvalidName(InvalidInput):
    """A prompt or alias name that breaks the naming rules."""

    def __init__(self, kind: str, value: str, reason: str) -> None:
        self.kind = kind
        self.value = value
        self.reason = reason
        super().__init__(f"invalid {kind} {value!r}: {reason}")


class InvalidReference(InvalidInput):
    """A prompt reference (``name@alias``, ``prompts:/name/3`` …) that does not parse."""

    def __init__(self, value: str, reason: str) -> None:
        self.value = value
        self.reason = reason
        super().__init__(f"invalid reference {value!r}: {reason}")


class InvalidFilter(InvalidInput):
    """A search filter that does not parse; ``position`` is the offending token's offset."""

    def __init__(self, text: str, position: int, reason: str) -> None:
        self.text = text
        self.position = position
        self.reason = reason
        super().__init__(f"invalid filter at character {position + 1}: {reason}")


class MissingVariables(InvalidInput):
    """``format()`` was not given a value for every variable the template uses.

    ``unused`` names values that were given but match no variable (likely typos), where
    the caller knows them.
    """

    def __init__(self, names: Iterable[str]) -> None:
        self.names = tuple(sorted(names))
        self.unused: tuple[str, ...] = ()
        super().__init__("missing value for variable(s): " + ", ".join(self.names)
                         + "; or format(allow_partial=True) to fill only what is given")


class InvalidFile(InvalidInput):
    """A file of ours (prompt, config, lock) that does not parse or breaks its schema.

    The message names the file, the key (when there is one) and the problem.
    """

    def __init__(self, source: str, key: str | None, problem: str) -> None:
        self.source = source
        self.key = key
        self.problem = problem
        where = f"{source}: {key}: " if key else f"{source}: "
        super().__init__(where + problem)


class InvalidPromptFile(InvalidFile):
    """A prompt file that is not valid YAML or breaks the prompt-file schema."""


class NotFound(PromptctlError):
    """Something the user named does not exist."""

    exit_code = EXIT_NOT_FOUND


class RegistryNotFound(NotFound):
    """No registry at the given path, or none above the current directory."""

    def __init__(self, where: str) -> None:
        self.where = where
        super().__init__(
            f"no promptctl registry at {where} (run 'promptctl init' or pass --registry)"
        )


class PromptNotFound(NotFound):
    """No prompt of that name on the registry branch."""

    def __init__(self, name: str, similar: Iterable[str] = ()) -> None:
        self.name = name
        self.similar = tuple(similar)
        hint = f" (did you mean {' or '.join(map(repr, self.similar))}?)" if self.similar else ""
        super().__init__(f"prompt {name!r} not found{hint}")


class VersionNotFound(NotFound):
    """The prompt exists but has no such version; names the range that exists."""

    def __init__(self, name: str, version: int, latest: int) -> None:
        self.name = name
        self.version = version
        self.latest = latest
        super().__init__(
            f"prompt {name!r} has no version {version} (versions 1 to {latest} exist)"
        )


class AliasNotFound(NotFound):
    """The prompt has no such alias; names the aliases it does have.

    ``why`` is set when the alias tag exists but resolves to no version here.
    """

    def __init__(self, name: str, alias: str, existing: Iterable[str],
                 why: str | None = None) -> None:
        self.name = name
        self.alias = alias
        self.existing = tuple(sorted(existing))
        self.why = why
        if why is not None:
            super().__init__(f"alias {alias!r} of {name!r} resolves to no version: {why}")
            return
        have = ", ".join(self.existing) if self.existing else "none"
        super().__init__(f"prompt {name!r} has no alias {alias!r} (aliases: {have})")


class Conflict(PromptctlError):
    """The repository is not in a state we may write to, or someone changed it first."""

    exit_code = EXIT_CONFLICT

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class InvalidConfig(InvalidFile):
    """``promptctl.yaml`` is not valid YAML or holds a key with a value we cannot use."""


class ProtectedAlias(InvalidInput):
    """A move of a protected alias that breaks its rules in ``promptctl.yaml``.

    A usage error (exit 2), not a conflict: nobody raced us, the request itself must
    change (add a reason, promote through the named alias first, or ``--force``).
    """

    def __init__(self, name: str, alias: str, requirement: str) -> None:
        self.name = name
        self.alias = alias
        self.requirement = requirement
        super().__init__(
            f"alias {alias!r} of {name!r} is protected: {requirement} "
            "(in an emergency, --force with a reason overrides and is recorded)"
        )


class RemoteUnreachable(PromptctlError):
    """A remote could not be fetched from or pushed to (network, credentials, no such repo)."""

    def __init__(self, remote: str, detail: str) -> None:
        self.remote = remote
        self.detail = detail
        super().__init__(f"cannot reach {remote}: {detail}")


class RegistryUnreachable(NotFound):
    """A remote registry that was never fetched into the cache cannot be reached now."""

    def __init__(self, url: str, detail: str) -> None:
        self.url = url
        self.detail = detail
        super().__init__(f"remote registry {url} was never fetched and cannot be reached: {detail}")


class AliasMovedOnRemote(Conflict):
    """An alias push lost its lease: the remote alias moved since it was read.

    ``ours`` and ``theirs`` name the two versions (``version 3``, ``deleted`` …). Nothing
    was pushed, and the local alias was set to what the remote has.
    """

    def __init__(self, name: str, alias: str, ours: str, theirs: str) -> None:
        self.name = name
        self.alias = alias
        self.ours = ours
        self.theirs = theirs
        super().__init__(
            f"alias {alias!r} of {name!r} moved on the remote since it was read: "
            f"ours {ours}, theirs {theirs}; nothing was pushed and the local alias now "
            "matches the remote"
        )


class IdentityMissing(InvalidInput):
    """Git has no user name or email to write commits with."""

    def __init__(self) -> None:
        super().__init__(
            "git does not know who you are: run 'git config --global user.name \"Your Name\"' "
            "and 'git config --global user.email you@example.com', or pass --author 'Name <email>'"
        )


class RefLocked(Conflict):
    """Git could not take a lock file (``….lock``): another git process holds it, or a
    crashed one left it behind. ``lock_file`` is its path when git named it."""

    def __init__(self, command: str, detail: str) -> None:
        import re

        self.command = command
        self.detail = detail
        found = re.search(r"'([^']+\.lock)'", detail)
        self.lock_file = found.group(1) if found else None
        what = self.lock_file or "a lock file"
        super().__init__(
            f"git {command}: {what} exists: another git process is writing; if none is "
            "running, a crashed one left it behind: remove it and try again"
        )


class ShallowHistory(Conflict):
    """The clone is shallow: version numbers cannot be counted from a cut history.

    ``failure`` says why promptctl could not deepen it itself.
    """

    def __init__(self, failure: str | None = None) -> None:
        self.failure = failure
        why = f" and could not be deepened ({failure})" if failure else ""
        super().__init__(
            f"this is a shallow clone{why}, so version numbers cannot be counted; "
            "run 'git fetch --unshallow --tags' (in CI: checkout with fetch-depth: 0)"
        )


class LockFileError(PromptctlError):
    """A lock file could not be written."""


class LockFileNotFound(NotFound):
    """No lock file where one was named."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(f"no lock file at {path} (make one: promptctl lock REF…)")


class InvalidLockFile(InvalidFile):
    """A lock file that is not valid JSON or breaks its schema."""


class NotLocked(NotFound):
    """A load through a lock file of a reference the file does not pin."""

    def __init__(self, ref: str, path: str) -> None:
        self.ref = ref
        self.path = path
        super().__init__(
            f"{ref} is not pinned in lock file {path} "
            "(run 'promptctl lock' with every reference the application loads)"
        )


class LockMismatch(Conflict):
    """The registry no longer holds what a lock file pinned (history rewritten, file edited)."""

    def __init__(self, ref: str, path: str, problem: str) -> None:
        self.ref = ref
        self.path = path
        self.problem = problem
        super().__init__(
            f"{ref} does not match lock file {path}: {problem}; "
            "see 'promptctl lock --check', then re-lock or restore the history"
        )
