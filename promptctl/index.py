"""The version index: prompt versions numbered once, kept in SQLite, updated incrementally.

Numbering versions means walking the first-parent history of the branch. Doing that on
every call costs tens of milliseconds for a long history, so the walk is done once and
its result kept in ``<git-common-dir>/promptctl/``: one database per registry folder and
branch. Each row is a version (name, number, commit, blob, author, date, message); a
second table holds the parsed metadata of every prompt's newest version for ``list`` and
``search``.

The index records the commit it was built for. Before any read the caller passes the
current tip; if history only grew along the first-parent line, the new commits are
appended; if it was rewritten (rebase, reset, force-push, another branch), the index is
rebuilt from scratch. So it can be stale only between two reads, never in one.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .errors import Conflict, InvalidName, PromptctlError
from .formats import promptfile
from .formats import template as tmpl
from .formats.references import validate_name
from .gitrepo import GitRepo, LogEntry

SCHEMA_VERSION = "1"

Progress = Callable[[int, int], None]
"""Called with (commits read, commits in all) while the index is built from scratch."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS versions (
    name TEXT NOT NULL, number INTEGER NOT NULL, commit_id TEXT NOT NULL, blob TEXT NOT NULL,
    author TEXT, email TEXT, timestamp INTEGER, message TEXT,
    PRIMARY KEY (name, number)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS versions_by_commit ON versions (name, commit_id);
CREATE TABLE IF NOT EXISTS latest (
    name TEXT PRIMARY KEY, number INTEGER, commit_id TEXT, blob TEXT,
    description TEXT, tags TEXT, model_config TEXT, template_text TEXT, problem TEXT
) WITHOUT ROWID;
"""


@dataclass(frozen=True)
class VersionRow:
    """One indexed version of a prompt."""

    name: str
    number: int
    commit: str
    blob: str
    author: str
    email: str
    timestamp: int
    message: str


@dataclass(frozen=True)
class LatestRow:
    """The newest version of a prompt with the metadata ``list`` and ``search`` need."""

    name: str
    number: int
    commit: str
    description: str | None
    tags: dict[str, str]
    model_config: dict[str, Any]
    template_text: str
    problem: str | None


class VersionIndex:
    """The index of one registry folder on one branch of a repository."""

    def __init__(self, repo: GitRepo, prefix: str, branch: str | None) -> None:
        self._repo = repo
        self._prefix = prefix
        self._prompts_dir = f"{prefix}prompts/"
        key = hashlib.sha1(f"{prefix}\0{branch or 'HEAD'}".encode()).hexdigest()[:16]
        folder = repo.common_dir / "promptctl"
        try:
            folder.mkdir(exist_ok=True)
            self._db = sqlite3.connect(folder / f"index-{key}.sqlite", isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
        except (OSError, sqlite3.Error):
            # A read-only repository: keep the index in memory for this process.
            self._db = sqlite3.connect(":memory:", isolation_level=None)
        self._db.executescript(_SCHEMA)
        self._tip: str | None = None
        self._latest_cache: list[LatestRow] | None = None
        if self._meta("schema") not in (None, SCHEMA_VERSION):
            self._db.execute("DELETE FROM meta")
        self._db.execute(
            "INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,)
        )

    @property
    def tip(self) -> str | None:
        """The commit the index was last brought up to date with."""
        return self._tip

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    # -- keeping it current ---------------------------------------------------------------

    def refresh(self, tip: str | None, progress: Progress | None = None,
                *, made: LogEntry | None = None) -> None:
        """Bring the index up to date with ``tip``, the branch's newest commit.

        ``made`` is a commit the caller just made on top of the indexed tip: it is
        recorded as it is, sparing a walk of the history (a git process).
        """
        if tip == self._tip and tip is not None:
            return
        if tip is not None and self._repo.is_shallow():
            raise ShallowHistory()
        self._db.execute("BEGIN IMMEDIATE")  # one writer at a time across processes
        try:
            stored = self._meta("tip")
            if stored != tip:
                if made is not None and made.commit == tip and made.parents[:1] == (stored,):
                    appended: list[LogEntry] | None = [made]
                else:
                    appended = self._appended(stored, tip) if stored and tip else None
                if appended is not None:
                    self._apply(appended, progress and (lambda n: progress(n, len(appended))))
                else:
                    self._db.execute("DELETE FROM versions")
                    self._db.execute("DELETE FROM latest")
                    if tip:
                        entries = self._repo.log_first_parent(tip, paths=[self._prompts_dir])
                        total = self._repo.count_first_parent(tip) if progress else 0
                        self._apply(entries, progress and (lambda n: progress(n, total)))
                        if progress:
                            progress(total, total)  # the walk skips commits not touching prompts
                self._db.execute("INSERT OR REPLACE INTO meta VALUES ('tip', ?)", (tip,))
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        if stored != tip:
            self._latest_cache = None
        self._tip = tip

    def _appended(self, stored: str, tip: str) -> list[LogEntry] | None:
        """The commits ``tip`` adds to ``stored`` along the first-parent line, or ``None``
        when history was rewritten (then ``stored`` is not the first parent of the oldest).

        One git process: the walk itself proves the chain, no separate ancestry check.
        """
        entries = list(self._repo.log_first_parent(tip, since=stored))
        if entries and entries[0].parents[:1] == (stored,):
            return entries
        return None

    def _apply(self, entries: Iterable[LogEntry], progress: Callable[[int], None] | None) -> None:
        counts: dict[str, int] = {}
        touched: dict[str, tuple[int, str, str] | None] = {}
        rows = []
        for seen, entry in enumerate(entries, 1):
            for status, path, blob in entry.changes:
                name = self._name_of(path)
                if name is None:
                    continue
                if status == "D":
                    touched[name] = None
                    continue
                if name not in counts:
                    counts[name] = self.count(name)
                counts[name] += 1
                rows.append((name, counts[name], entry.commit, blob, entry.author,
                             entry.email, entry.timestamp, entry.message))
                touched[name] = (counts[name], entry.commit, blob)
            if len(rows) >= 5000:  # in batches: a 100,000-version build stays small in memory
                self._db.executemany("INSERT INTO versions VALUES (?,?,?,?,?,?,?,?)", rows)
                rows.clear()
            if progress and seen % 1000 == 0:
                progress(seen)
        self._db.executemany("INSERT INTO versions VALUES (?,?,?,?,?,?,?,?)", rows)
        for name, newest in touched.items():
            if newest is None:
                self._db.execute("DELETE FROM latest WHERE name = ?", (name,))
            else:
                self._db.execute(
                    "INSERT OR REPLACE INTO latest VALUES (?,?,?,?,?,?,?,?,?)",
                    (name, *newest, *self._summarize(name, newest[2])),
                )

    def _summarize(self, name: str, blob: str) -> tuple[Any, ...]:
        found = self._repo.read_object(blob)
        text = found[1].decode("utf-8", "replace") if found else ""
        try:
            content = promptfile.parse_prompt(text, self.path_of(name))
        except PromptctlError as exc:
            return (None, "{}", "{}", "", str(exc))
        return (
            content.description,
            json.dumps(content.tags),
            json.dumps(content.model_config, default=str),
            tmpl.template_text(content.template),
            None,
        )

    def _name_of(self, path: str) -> str | None:
        if not (path.startswith(self._prompts_dir) and path.endswith(".yaml")):
            return None
        name = path[len(self._prompts_dir):-len(".yaml")]
        try:
            return validate_name(name)
        except InvalidName:
            return None  # a file promptctl could never address is not a prompt

    def count(self, name: str) -> int:
        """How many versions ``name`` has had (0 for an unknown prompt)."""
        row = self._db.execute("SELECT max(number) FROM versions WHERE name = ?", (name,)).fetchone()
        return row[0] or 0

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    # -- reading ---------------------------------------------------------------------------

    def path_of(self, name: str) -> str:
        """The prompt file's path from the repository root."""
        return f"{self._prompts_dir}{name}.yaml"

    def version(self, name: str, number: int) -> VersionRow | None:
        """Version ``number`` of ``name``."""
        row = self._db.execute(
            "SELECT * FROM versions WHERE name = ? AND number = ?", (name, number)
        ).fetchone()
        return VersionRow(*row) if row else None

    def newest(self, name: str) -> VersionRow | None:
        """The newest version of ``name`` while its file exists, else ``None``."""
        row = self._db.execute(
            "SELECT v.* FROM latest l JOIN versions v ON v.name = l.name AND v.number = l.number"
            " WHERE l.name = ?",
            (name,),
        ).fetchone()
        return VersionRow(*row) if row else None

    def number_of(self, name: str, commit: str) -> int | None:
        """The version ``commit`` created for ``name``, if it created one."""
        row = self._db.execute(
            "SELECT number FROM versions WHERE name = ? AND commit_id = ?", (name, commit)
        ).fetchone()
        return row[0] if row else None

    def versions(self, name: str) -> list[VersionRow]:
        """Every version of ``name``, oldest first."""
        rows = self._db.execute(
            "SELECT * FROM versions WHERE name = ? ORDER BY number", (name,)
        ).fetchall()
        return [VersionRow(*row) for row in rows]

    def latest_rows(self) -> list[LatestRow]:
        """Every prompt that exists now, with its newest metadata, sorted by name."""
        if self._latest_cache is None:
            rows = self._db.execute(
                "SELECT name, number, commit_id, description, tags, model_config, template_text,"
                " problem FROM latest ORDER BY name"
            ).fetchall()
            self._latest_cache = [
                LatestRow(n, num, c, d, json.loads(t), json.loads(m), text, p)
                for n, num, c, d, t, m, text, p in rows
            ]
        return self._latest_cache


class ShallowHistory(Conflict):
    """The clone is shallow: version numbers cannot be counted from a cut history.

    ``failure`` says why promptctl could not deepen it itself (see ``Registry``).
    """

    def __init__(self, failure: str | None = None) -> None:
        self.failure = failure
        why = f" and could not be deepened ({failure})" if failure else ""
        super().__init__(
            f"this is a shallow clone{why}, so version numbers cannot be counted; "
            "run 'git fetch --unshallow --tags' (in CI: checkout with fetch-depth: 0)"
        )
