"""Who writes, and the settings a write obeys: worked out once per process, as git does.

A commit, a tag and a reflog line name their maker as ``Name <email> SECONDS +HHMM``.
Git's rules for the ``Name <email>`` part (``GIT_AUTHOR_*`` / ``GIT_COMMITTER_*``,
``author.*`` / ``committer.*`` / ``user.*`` config with its includes, ``EMAIL``, the
system's fallbacks, ``user.useConfigOnly``) stay git's: one ``git var -l`` reads them
together with the whole configuration, and only when an identity is not given
explicitly (no variable, no config key: git would guess) does a strict ``git var
GIT_AUTHOR_IDENT`` ask git whether its guess may be used, failing as git fails. The
answers are kept while the environment and the usual configuration files stay as they
were (a change to a file pulled in by ``include.path`` is seen by the next process).

The date part is worked out here for each object: now and the local UTC offset, or
``GIT_AUTHOR_DATE`` / ``GIT_COMMITTER_DATE`` when set in git's own ``@SECONDS +HHMM``
form; any other date format is git's to parse (one ``git var`` for that object).
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .runner import Runner, environment, failure, identity_env

ROLES = ("author", "committer")
# The variables git's identity and configuration lookups read (GIT_CONFIG_KEY_<n> and
# GIT_CONFIG_VALUE_<n> too); the dates are read per object instead, so a ticking
# GIT_COMMITTER_DATE does not empty the cache.
_ENV_WORDS = ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME",
              "GIT_COMMITTER_EMAIL", "EMAIL", "HOME", "XDG_CONFIG_HOME", "USER", "LOGNAME",
              "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_CONFIG_NOSYSTEM", "GIT_CONFIG",
              "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT", "GIT_DIR", "GIT_COMMON_DIR",
              "PREFIX")
_DATE = re.compile(r"@([0-9]+) ([+-])([0-9]{2})([0-9]{2})")
_FALSE = ("false", "no", "off", "0", "")


@dataclass
class Profile:
    """What one environment and configuration give: ``Name <email>`` per role (``None``
    until git vouched for a guessed one) and the configuration (``git var -l``)."""

    names: dict[str, str | None]
    config: dict[str, str | None]
    explicit: dict[str, bool] = field(default_factory=dict)
    key: tuple[object, ...] = ()

    def flag(self, key: str) -> bool:
        """True when config ``key`` (lower case) is set to a true value, as git reads a bool."""
        if key not in self.config:
            return False
        value = self.config[key]
        return value is None or value.strip().lower() not in _FALSE


class Identity:
    """Identities and settings of one repository, cached per environment."""

    def __init__(self, runner: Runner, git_dir: Path, common_dir: Path) -> None:
        self._runner = runner
        self._files = (common_dir / "config", git_dir / "config.worktree")
        self._profiles: dict[tuple[object, ...], Profile] = {}
        self._lock = threading.Lock()
        self._steady: dict[tuple[str, str] | None, Profile] | None = None
        self._steady_depth = 0
        self._pending: tuple[tuple[object, ...], subprocess.Popen[bytes]] | None = None

    @contextlib.contextmanager
    def steady(self) -> Iterator[None]:
        """Inside the block (one write), each profile is worked out once: the objects and
        refs of one write are made under one configuration, and its files are not
        looked at again for each of them. Re-entrant."""
        with self._lock:
            if self._steady_depth == 0:
                self._steady = {}
            self._steady_depth += 1
        try:
            yield
        finally:
            with self._lock:
                self._steady_depth -= 1
                if self._steady_depth == 0:
                    self._steady = None

    def profile(self, author: tuple[str, str] | None = None) -> Profile:
        """The identities and configuration in effect now (``author``: given explicitly)."""
        steady = self._steady
        if steady is not None:
            held = steady.get(author)
            if held is None:
                held = steady[author] = self._profile(author)
            return held
        return self._profile(author)

    def key(self, author: tuple[str, str] | None = None) -> tuple[object, ...]:
        """What the profile of ``author`` depends on now (its :attr:`Profile.key`, when the
        configuration has not changed since it was read)."""
        return self._key(author)

    def prefetch(self, author: tuple[str, str] | None = None) -> None:
        """Start working out :meth:`profile` for ``author`` in the background: the ``git
        var -l`` it needs runs while the caller does other work (a write reads its
        branch, the prompt and builds the file before it makes its first object). Does
        nothing once this process has worked out a profile (a changed configuration is
        then read when asked for, as before); :meth:`close` ends one never asked for."""
        if self._profiles:
            return  # a process that worked one out has it (or one for a past config) kept
        key = self._key(author)
        with self._lock:
            if key in self._profiles or self._pending is not None:
                return
            try:
                proc = subprocess.Popen(
                    ["git", "var", "-l"], cwd=self._runner.cwd, stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE, env=environment(self._listing_env(author)))
            except OSError:
                return  # profile() runs it again and reports what is wrong
            self._pending = (key, proc)

    def close(self) -> None:
        """End a prefetch nobody collected."""
        with self._lock:
            pending, self._pending = self._pending, None
        if pending is not None:
            proc = pending[1]
            with contextlib.suppress(OSError):
                proc.kill()
            proc.communicate()

    def _profile(self, author: tuple[str, str] | None) -> Profile:
        key = self._key(author)
        with self._lock:
            found = self._profiles.get(key)
            if found is None:
                if len(self._profiles) >= 64:
                    self._profiles.clear()
                found = self._profiles[key] = self._read(author, self._collect(key))
                found.key = key
            return found

    def _collect(self, key: tuple[object, ...]) -> str | None:
        """The output of the prefetched ``git var -l`` if it was started for ``key`` (the
        same author, environment and configuration files), else ``None``."""
        pending, self._pending = self._pending, None
        if pending is None:
            return None
        started_for, proc = pending
        out, err = proc.communicate()
        if started_for != key:
            return None  # something changed since it started: ask again
        if proc.returncode != 0:
            raise failure("var", proc.returncode, err.decode("utf-8", "replace"))
        return out.decode("utf-8", "surrogateescape")

    def ident(self, role: str, author: tuple[str, str] | None, now: int, zone: str,
              profile: Profile | None = None) -> str:
        """``Name <email> SECONDS +HHMM`` for ``role`` (``author`` or ``committer``), as
        ``git var GIT_AUTHOR_IDENT`` would print it; ``now`` and ``zone`` are the date
        unless git's date variable for the role says otherwise. ``profile``: the one
        :meth:`profile` gave for ``author`` just now."""
        date = os.environ.get(f"GIT_{role.upper()}_DATE")
        stamp = f"{now} {zone}"
        if date:
            stamp = _plain_date(date) or ""
        name = self._name(role, author, profile or self.profile(author))
        if name is None or not stamp:
            # A date git must parse, or an identity git must vouch for: git's answer.
            return self._git_var(role, author, with_date=True)
        return f"{name} {stamp}"

    def _name(self, role: str, author: tuple[str, str] | None,
              profile: Profile) -> str | None:
        found = profile.names.get(role)
        if found is None:
            ident = self._git_var(role, author, with_date=False)  # raises as git does
            found = ident.rsplit(" ", 2)[0]
            with self._lock:
                profile.names[role] = found
        return found

    def _git_var(self, role: str, author: tuple[str, str] | None, *, with_date: bool) -> str:
        env = {**identity_env(author)}
        if not with_date:
            env[f"GIT_{role.upper()}_DATE"] = "@0 +0000"  # the date is ours; only the name counts
        return self._runner.run("var", f"GIT_{role.upper()}_IDENT", env=env).strip()

    def _key(self, author: tuple[str, str] | None) -> tuple[object, ...]:
        env = os.environ
        count = env.get("GIT_CONFIG_COUNT", "")
        extra = range(int(count)) if count.isdigit() and int(count) < 100 else range(0)
        words = (*map(env.get, _ENV_WORDS),
                 *(env.get(f"GIT_CONFIG_{kind}_{i}") for i in extra for kind in ("KEY", "VALUE")))
        home = env.get("HOME", "")
        xdg = env.get("XDG_CONFIG_HOME") or f"{home}/.config"
        files: tuple[str | Path, ...] = (
            *self._files, f"{home}/.gitconfig", f"{xdg}/git/config", "/etc/gitconfig",
            env.get("GIT_CONFIG_GLOBAL", ""), env.get("GIT_CONFIG_SYSTEM", ""))
        return (author, words, tuple(map(_stamp, files)))

    @staticmethod
    def _listing_env(author: tuple[str, str] | None) -> dict[str, str]:
        # A bad date must not fail the listing.
        return {**identity_env(author), "GIT_AUTHOR_DATE": "@0 +0000",
                "GIT_COMMITTER_DATE": "@0 +0000"}

    def _read(self, author: tuple[str, str] | None, listing: str | None = None) -> Profile:
        env = self._listing_env(author)
        if listing is None:
            listing = self._runner.run("var", "-l", env=env)
        config: dict[str, str | None] = {}
        idents: dict[str, str] = {}
        for line in listing.splitlines():
            key, eq, value = line.partition("=")
            if key in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"):
                idents[key] = value  # the last one: git prints them after the config
            elif key and not key.startswith("GIT_"):
                config[key] = value if eq else None
        given = {**os.environ, **env}
        names: dict[str, str | None] = {}
        explicit: dict[str, bool] = {}
        for role in ROLES:
            ident = idents.get(f"GIT_{role.upper()}_IDENT", "").rsplit(" ", 2)[0]
            has_name = (f"GIT_{role.upper()}_NAME" in given or f"{role}.name" in config
                        or "user.name" in config)
            has_mail = (f"GIT_{role.upper()}_EMAIL" in given or f"{role}.email" in config
                        or "user.email" in config or "EMAIL" in given)
            explicit[role] = has_name and has_mail
            # Given explicitly and not empty: what strict git prints too. Anything else
            # (a guess from the system, an empty name) is git's to allow or refuse.
            usable = explicit[role] and ident and not ident.startswith("<")
            names[role] = ident if usable else None
        return Profile(names, config, explicit)

    def now(self) -> tuple[int, str]:
        """Seconds since the epoch and the local UTC offset (``+HHMM``), as git stamps them."""
        # git reads TZ at each start, Python only when told. Told every time (~1 µs): a
        # note of the TZ last seen went stale when other code called tzset() itself.
        time.tzset()
        now = _seconds()
        offset = int(time.localtime(now).tm_gmtoff / 60)  # git truncates toward zero
        sign = "-" if offset < 0 else "+"
        offset = abs(offset)
        return now, f"{sign}{offset // 60:02d}{offset % 60:02d}"


# Linux's CLOCK_REALTIME_COARSE (Python names no constant for it): what time(), and so
# git, reads there.
_COARSE_CLOCK = 5 if sys.platform.startswith("linux") else None


def _seconds() -> int:
    """Now, in whole seconds, as git reads it: through time(), which on Linux reads the
    coarse clock. For a few milliseconds after each second it still gives the one before,
    where time.time() gives the next, and a commit made then would differ from git's."""
    if _COARSE_CLOCK is not None:
        with contextlib.suppress(OSError):
            return int(time.clock_gettime(_COARSE_CLOCK))
    return int(time.time())


def _plain_date(value: str) -> str | None:
    """``SECONDS +HHMM`` for git's internal date format ``@SECONDS +HHMM``, else ``None``."""
    found = _DATE.fullmatch(value)
    if found is None:
        return None
    seconds, sign, hours, minutes = found.groups()
    if int(minutes) >= 60:
        return None  # git carries such minutes into the hours: let git say what it makes
    if hours == "00" and minutes == "00":
        sign = "+"  # git prints a zero offset as +0000, whichever sign it was given
    return f"{int(seconds)} {sign}{hours}{minutes}"


def _stamp(path: str | Path) -> tuple[int, int, int] | None:
    if not path:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)

