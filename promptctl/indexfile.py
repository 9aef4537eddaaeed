"""Where a registry's version index is kept, the schema it is written in, the lookups
of one version in it, and which SQLite errors mean a file is held rather than broken.

Apart from :mod:`promptctl.index` so that the cold ``promptctl load`` (``coldload``) can
find and check the index without importing the machinery that builds it.
"""

from __future__ import annotations

import os

from .git.digest import sha1

# 5: a registry in a folder no longer takes another folder's records for its own, so its
# numbers may differ from those a schema-4 index holds; every index is built anew once.
# 6: the line goes through a `git pull` merge's second parent, a merge's side records no
# longer take numbers the line gave, and a merged record whose claim lost is numbered
# anew: an index numbered by the rules before may differ, so it is built anew once.
SCHEMA_VERSION = "6"


# Findings that ``check`` notes without failing and loads do not warn of (see
# ``index.Finding.failing``); the cold load answers despite them.
NOTED_FINDINGS = ("clash", "unpushed")
# Whether a prompt has a finding that fails (parameters: its name, then NOTED_FINDINGS).
FAILING_FINDING = ("SELECT 1 FROM findings WHERE name = ? AND kind NOT IN"
                   f" ({', '.join('?' * len(NOTED_FINDINGS))})")

# The lookups of one version's row, by number, by the commit that made it, and the
# newest: VersionIndex's, and the cold load's, which must find the same row.
VERSION_BY_NUMBER = "SELECT * FROM versions WHERE name = ? AND number = ?"
VERSION_MADE_BY = "SELECT * FROM versions WHERE name = ? AND commit_id = ?"
NEWEST_VERSION = ("SELECT v.* FROM latest l JOIN versions v"
                  " ON v.name = l.name AND v.number = l.number WHERE l.name = ?")


def path(common_dir: str, prefix: str, branch: str | None) -> str:
    """The index of the registry at ``prefix`` (``""`` or ``"a/b/"``) in the repository,
    for ``branch`` (``None``: a detached HEAD)."""
    key = sha1(f"{prefix}\0{branch or 'HEAD'}".encode()).hex()[:16]
    return os.path.join(common_dir, "promptctl", f"index-{key}.sqlite")


def locked(exc: BaseException) -> bool:
    """Whether an SQLite error says another process holds the database (past the busy
    timeout, or at once where SQLite sees a deadlock), not that the file is broken.

    Every cache in ``.git/promptctl`` throws a broken file away and builds it anew; one
    that is only held must be left alone: deleting it under the process holding it loses
    that process's work and leaves it, or the next reader, with an empty database.
    """
    code = getattr(exc, "sqlite_errorcode", None)  # Python 3.11+
    if code is not None:
        return code & 0xFF in (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED (and their extended codes)
    return "locked" in str(exc) or "busy" in str(exc)
