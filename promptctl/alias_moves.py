"""The alias log read as moves: parsed once per set of log tips, then kept.

Reading the whole log (a ``git rev-list`` of every record, a JSON parse each, an
ordering) costs ~0.2 s at 5,000 records, and ``alias list``, ``alias history``, ``check``
and every protected promotion read it. The moves are a pure function of the log refs'
tips (commit ids never change what they hold), so they are kept twice, keyed by the tips:
in this process, and in ``.git/promptctl/alias-log.sqlite`` for the next one.

When the tips moved on (an append, a fetch, a merge of two logs), only the commits the
old tips do not reach are read, provided every old tip is an ancestor of its ref's new
tip; a log rewritten or moved back (a forced fetch, a reset) is read whole again. The
new records go after the old ones when they are all dated later, as the full ordering
would put them; otherwise the log is read whole again. The database is only a cache:
when it cannot be opened, read or written, the log is read from Git as before.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .formats.aliaslog import decode_move
from .git.records import oldest_first
from .indexfile import locked
from .models import AliasMove

if TYPE_CHECKING:
    from .git import Repo
    from .git.history import Commit

_FORMAT = 1  # of a stored entry; another value is read whole again
_KEEP_ROWS = 8  # tip sets kept in the database (the newest used)
_KEEP_MEMO = 4  # tip sets kept in this process
# Records read since the last save that make a save worth its cost (a few ms at 5,000
# records); until then the next process reads those few from Git.
_SAVE_AFTER = 32
# A stored move is the list of its fields, in this order (an entry stored with another
# order is not read).
_FIELDS = [f.name for f in dataclasses.fields(AliasMove)]

_memo: dict[tuple[str, tuple[str, ...], tuple[str | None, ...]], _Known] = {}
_memo_lock = threading.Lock()


class _Known:
    """The log as read at some tips: its moves in order, every commit id it holds, the
    last one in order and the latest date (whether newer records can simply go after
    these), and how many commits were read since it was last saved."""

    __slots__ = ("ids", "last", "latest", "moves", "unsaved")

    def __init__(self, moves: list[AliasMove], ids: frozenset[str], last: str, latest: int,
                 unsaved: int) -> None:
        self.moves = moves
        self.ids = ids
        self.last = last  # the commit read last, merges included
        self.latest = latest
        self.unsaved = unsaved


def read_moves(repo: Repo, *log_refs: str) -> list[AliasMove]:
    """Every move recorded in the alias logs at ``log_refs`` (each record once, merges
    left out), oldest first: the order ``git.records`` gives, the same in every clone."""
    tips = tuple(repo.refs.resolve(ref) for ref in log_refs)
    if not any(tips):
        return []
    where = (str(repo.common_dir), tuple(log_refs))
    key = (*where, tips)
    with _memo_lock:
        known = _memo.get(key)
        base = next(((key[2], found) for key, found in reversed(_memo.items())
                     if key[:2] == where), None)
    if known is None and base is not None:
        known = _advance(repo, base[0], base[1], tips)  # this process read it before
    if known is None or known.unsaved >= _SAVE_AFTER:
        store = _Store(repo.common_dir / "promptctl" / "alias-log.sqlite")
        try:
            known = known or store.get(log_refs, tips)
            if known is None:
                stored = store.newest(log_refs)
                known = _advance(repo, stored[0], stored[1], tips) if stored else None
                known = known or _read_whole(repo, tips)
            if known.unsaved:
                store.put(log_refs, tips, known)
                known = _Known(known.moves, known.ids, known.last, known.latest, 0)
        finally:
            store.close()
    with _memo_lock:
        _memo.pop(key, None)
        if len(_memo) >= _KEEP_MEMO:
            _memo.pop(next(iter(_memo)))
        _memo[key] = known  # the newest last
    return list(known.moves)


def _read_whole(repo: Repo, tips: Sequence[str | None]) -> _Known:
    entries = oldest_first(list(repo.history.walk(*[t for t in tips if t])))
    return _Known(_decode(entries), frozenset(e.id for e in entries), entries[-1].id,
                  max(e.timestamp for e in entries), len(entries))


def _advance(repo: Repo, old: Sequence[str | None], known: _Known,
             tips: Sequence[str | None]) -> _Known | None:
    """``known`` (read at ``old``) brought up to ``tips`` by reading only what is new;
    ``None`` when an old tip is not an ancestor of its ref's new tip."""
    if len(old) != len(tips):
        return None
    fresh: dict[str, Commit] = {}
    for before, now in zip(old, tips, strict=True):
        if before == now:
            continue
        if now is None:
            return None  # a log ref deleted: what it held may be gone
        walked = list(repo.history.walk(now, since=before) if before else repo.history.walk(now))
        if before and not any(before in c.parents for c in walked) and not (
                walked and repo.history.is_ancestor(before, now)):
            return None  # moved back or rewritten
        fresh.update((c.id, c) for c in walked if c.id not in known.ids)
    if not fresh:
        return known
    added = oldest_first(list(fresh.values()))
    if min(c.timestamp for c in added) <= known.latest and any(
            known.last not in c.parents for c in added if not fresh.keys() & set(c.parents)):
        return None  # a record that the full ordering may place among the old ones
    # The old set holds all its own ancestors, and none of the new records can come first
    # in the full ordering (each is dated later, or descends from the last one read): the
    # old ones keep their order and the new ones follow.
    return _Known(known.moves + _decode(added), known.ids | fresh.keys(), added[-1].id,
                  max(known.latest, *(c.timestamp for c in added)),
                  known.unsaved + len(added))


def _decode(entries: Sequence[Commit]) -> list[AliasMove]:
    moves = (decode_move(c.id, c.message, c.author, c.email, c.timestamp) for c in entries)
    return [m for m in moves if m is not None]


class _Store:
    """The database of tip sets and what they hold; every failure is a miss."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._db: sqlite3.Connection | None = None
        with contextlib.suppress(OSError, sqlite3.Error):
            self._path.parent.mkdir(exist_ok=True)
            db = sqlite3.connect(self._path, isolation_level=None, timeout=2.0)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute("CREATE TABLE IF NOT EXISTS logs (refs TEXT, tips TEXT, used INTEGER,"
                           " data BLOB, PRIMARY KEY (refs, tips))")
                self._db = db
            except sqlite3.DatabaseError as exc:
                db.close()
                if not locked(exc):  # held by another process: this one does without
                    self._discard()  # corrupt or not a database: it is only a cache

    def close(self) -> None:
        """Close the database."""
        if self._db is not None:
            self._db.close()

    def get(self, refs: Sequence[str], tips: Sequence[str | None]) -> _Known | None:
        """What the log holds at exactly ``tips``, if kept."""
        for _tips, known in self._rows("SELECT tips, data FROM logs WHERE refs = ? AND tips = ?",
                                       (_key(refs), _key(tips))):
            return known
        return None

    def newest(self, refs: Sequence[str]) -> tuple[list[str | None], _Known] | None:
        """The tip set of ``refs`` used last, and what the log held there."""
        for tips, known in self._rows("SELECT tips, data FROM logs WHERE refs = ? "
                                      "ORDER BY used DESC LIMIT 1", (_key(refs),)):
            return json.loads(tips), known
        return None

    def put(self, refs: Sequence[str], tips: Sequence[str | None], known: _Known) -> None:
        """Keep what the log holds at ``tips`` (and only the newest few tip sets)."""
        if self._db is None:
            return
        data = json.dumps({"format": _FORMAT, "fields": _FIELDS, "last": known.last,
                           "latest": known.latest, "ids": sorted(known.ids),
                           "moves": [[getattr(m, f) for f in _FIELDS] for m in known.moves]},
                          separators=(",", ":"))
        with contextlib.suppress(sqlite3.Error):
            used = self._db.execute("SELECT coalesce(max(used), 0) + 1 FROM logs").fetchone()[0]
            self._db.execute("INSERT OR REPLACE INTO logs VALUES (?, ?, ?, ?)",
                             (_key(refs), _key(tips), used, data))
            self._db.execute("DELETE FROM logs WHERE used <= ?", (used - _KEEP_ROWS,))

    def _rows(self, query: str, args: tuple[str, ...]) -> Iterator[tuple[str, _Known]]:
        if self._db is None:
            return
        try:
            rows = self._db.execute(query, args).fetchall()
        except sqlite3.Error:
            return
        for tips, data in rows:
            known = _parse(data)
            if known is not None:
                yield tips, known

    def _discard(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                Path(f"{self._path}{suffix}").unlink()


def _key(values: Sequence[str | None]) -> str:
    return json.dumps(list(values))


def _parse(data: Any) -> _Known | None:
    """A stored entry, or ``None`` when it is not one this version wrote whole."""
    try:
        found = json.loads(data)
        if found.get("format") != _FORMAT or found.get("fields") != _FIELDS:
            return None
        width = len(_FIELDS)
        moves = [AliasMove(*row) for row in found["moves"] if len(row) == width]
        return _Known(moves, frozenset(found["ids"]), str(found["last"]),
                      int(found["latest"]), 0)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
