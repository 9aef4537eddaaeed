"""The alias log: who moved which alias from which version to which, when and why.

Every alias move (set, move, delete) is also a record in the *alias log*:
the ref ``refs/promptctl/alias-log`` holds an append-only chain of commits, one per move.
Each commit has the empty tree (it costs one small object), its author and date say who
moved the alias and when, and its message is a subject line (``name@alias: v2 -> v3``)
and a JSON record: ``format`` (1), ``name``, ``alias``, ``from_version``, ``to_version``,
``from_commit``, ``to_commit`` (``null`` when the alias appears or is deleted),
``reason`` (the ``-m`` given, else ``null``) and ``forced``. The tag and the record are
written in one ``update-ref --stdin`` transaction, so neither lands without the other;
the record's parent is compared-and-swapped, and a writer that lost the race rebuilds it
on the new tip, so concurrent promotions never lose one.

The log travels like any ref, but only when named (clone and plain fetch skip
``refs/promptctl/*``)::

    git push origin 'refs/promptctl/*:refs/promptctl/*'
    git fetch origin '+refs/promptctl/*:refs/remotes/origin/promptctl/*'

then :meth:`Registry.merge_alias_log` with ``refs/remotes/origin/promptctl/alias-log``
fast-forwards ours, or, when both clones appended, makes a merge commit whose parents are
both chains (nothing is rewritten, nothing dropped); a push refused as non-fast-forward
is fixed the same way: fetch, merge, push again. Reading walks every commit of the ref,
merges skipped, oldest first by date then commit id, parents always before children.
"""

from __future__ import annotations

import json
from typing import Any

from ..models import AliasMove

ALIAS_LOG_REF = "refs/promptctl/alias-log"
_RECORD_FORMAT = 1


def encode_move(name: str, alias: str, before: tuple[str | None, int | None],
                  after: tuple[str | None, int | None], reason: str | None,
                  forced: bool) -> str:
    """The alias-log commit message: a readable subject line, then the JSON record."""
    record = {
        "format": _RECORD_FORMAT, "name": name, "alias": alias,
        "from_version": before[1], "to_version": after[1],
        "from_commit": before[0], "to_commit": after[0],
        "reason": reason, "forced": forced,
    }

    def label(commit: str | None, version: int | None) -> str:
        return "none" if commit is None else f"v{version}" if version else commit[:10]

    subject = f"{name}@{alias}: {label(*before)} -> {label(*after)}"
    if forced:
        subject += " (forced)"
    return f"{subject}\n\n{json.dumps(record, sort_keys=True)}\n"


def decode_move(record: str, message: str, author: str, email: str,
                timestamp: int) -> AliasMove | None:
    """The move alias-log commit ``record`` (its message, author and date) holds, or
    ``None`` (a merge, or not a record we know)."""
    body = message.partition("\n\n")[2]
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("format") != _RECORD_FORMAT:
        return None

    def opt(key: str, kind: type) -> Any:
        value = data.get(key)
        return value if isinstance(value, kind) and not isinstance(value, bool) else None

    name, alias = opt("name", str), opt("alias", str)
    if name is None or alias is None:
        return None
    return AliasMove(
        name=name, alias=alias,
        from_version=opt("from_version", int), to_version=opt("to_version", int),
        from_commit=opt("from_commit", str), to_commit=opt("to_commit", str),
        author=author, email=email, timestamp=timestamp,
        reason=opt("reason", str), forced=data.get("forced") is True, record=record,
    )
