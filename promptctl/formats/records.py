"""Version records: the trailer a register writes into its commit message.

A version made by promptctl says so in its commit message, after the note::

    Shorter summaries

    Promptctl-Version: support/summarize 4 3b18e512dba79e4c8300dd08aeb37f8e728b8dad 9f2c…

naming the prompt, the version number, the blob of the prompt file and the commit's own
root tree. The tree ties the record to the one commit whose content it describes: copy
the trailer into another commit, rebase or cherry-pick the commit, and the trees differ,
so the record no longer counts and that commit is numbered like a hand edit. A record
made on a branch other than the registry branch is a draft (``Promptctl-Draft:``): it
says which file changed, but its number is provisional until the commit lands.

A registry in a folder of its repository (a monorepo with a registry per team) names
that folder last, so that another registry's prompt of the same name is never taken for
its own::

    Promptctl-Version: summarize 4 3b18e512… 9f2c… teams/support

A record without a folder is a registry's at the repository's root (or was written
before records named their folder: the index checks those against the commit's tree).
A folder that does not fit on one line, or starts or ends with a space, gets no record.

Records let the index number versions without diffing every commit, and keep a number
once given: a merge whose first parent is not the registry branch's old tip cannot
renumber a recorded version (see ``index``).
"""

from __future__ import annotations

import re
from typing import NamedTuple

FINAL_KEY = "Promptctl-Version"
DRAFT_KEY = "Promptctl-Draft"
# Numbers past this are refused: no prompt has a billion versions, and a huge number in a
# crafted message must not become a huge integer.
MAX_NUMBER = 10**9

_LINE = re.compile(
    rf"^({FINAL_KEY}|{DRAFT_KEY}): (\S+) ([1-9][0-9]{{0,9}}) ([0-9a-f]{{40}}) ([0-9a-f]{{40}})"
    r"(?: (\S(?:[^\n]*\S)?))?$",
    re.MULTILINE | re.ASCII,
)


class VersionRecord(NamedTuple):
    """What one trailer says: ``name`` version ``number`` is ``blob`` in a commit of ``tree``.

    ``final`` is false for a draft (made off the registry branch); ``folder`` is the
    registry's folder in the repository (``""``: its root).
    """

    name: str
    number: int
    blob: str
    tree: str
    final: bool
    folder: str = ""


def fits(folder: str) -> bool:
    """Whether a record can name ``folder`` (one line, no space at either end)."""
    return "\n" not in folder and "\r" not in folder and folder == folder.strip()


def format_record(record: VersionRecord) -> str:
    """The trailer line for ``record``."""
    key = FINAL_KEY if record.final else DRAFT_KEY
    folder = f" {record.folder}" if record.folder else ""
    return f"{key}: {record.name} {record.number} {record.blob} {record.tree}{folder}"


def with_record(note: str, record: VersionRecord) -> str:
    """A commit message: the version note, a blank line, the trailer."""
    return f"{note.rstrip()}\n\n{format_record(record)}\n"


def parse_records(message: str) -> list[VersionRecord]:
    """Every well-formed trailer in a commit message (a squash may hold several)."""
    return split_records(message)[0]


def strip_records(message: str) -> str:
    """The version note: the commit message without its record trailers."""
    return split_records(message)[1]


def split_records(message: str) -> tuple[list[VersionRecord], str]:
    """``(parse_records(message), strip_records(message))`` in one pass over the message
    (a first index build does this for every commit of a long history)."""
    if FINAL_KEY not in message and DRAFT_KEY not in message:
        return [], message.strip()
    found: list[VersionRecord] = []
    kept: list[str] = []
    start = 0
    for match in _LINE.finditer(message):
        kept.append(message[start:match.start()])
        start = match.end()
        number = int(match.group(3))
        if number <= MAX_NUMBER:
            found.append(VersionRecord(match.group(2), number, match.group(4), match.group(5),
                                       match.group(1) == FINAL_KEY, match.group(6) or ""))
    kept.append(message[start:])
    return found, "".join(kept).strip()
