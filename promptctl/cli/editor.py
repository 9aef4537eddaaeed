"""``promptctl edit``'s editor session: a temporary prompt file opened in the user's editor.

As ``git commit`` and ``kubectl edit`` do: ``$VISUAL``, else ``$EDITOR``, else ``vi``,
split as a shell would split it (``EDITOR="code --wait"``), with the file's path
appended. An editor that exits non-zero aborts. When what follows the edit fails (the
file does not parse, the registry refuses it), the edited file is kept and its path
printed, so that nothing the user typed is lost.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import PromptctlError
from . import views


class EditorFailed(PromptctlError):
    """The editor could not be started, or exited non-zero: nothing is registered."""

    def __init__(self, editor: str, detail: str) -> None:
        self.editor = editor
        self.detail = detail
        super().__init__(f"editor {editor!r} {detail}; nothing registered")


@dataclass(frozen=True)
class Draft:
    """The edited file: where it is and what it holds after the editor closed."""

    path: Path
    text: str


@contextmanager
def edit_file(text: str, name: str) -> Iterator[Draft]:
    """Open ``text`` in the user's editor; yield what was saved.

    The file is removed afterwards, unless the block raised and the file holds an edit.
    """
    slug = name.replace("/", "-")
    handle, path_text = tempfile.mkstemp(prefix=f"promptctl-{slug}-", suffix=".yaml")
    path = Path(path_text)
    with os.fdopen(handle, "w") as file:
        file.write(text)
    keep = False
    try:
        _run_editor(path)
        edited = path.read_text()
        try:
            yield Draft(path, edited)
        except BaseException:
            keep = edited != text
            if keep:
                views.message(f"your edit is kept in {path}")
            raise
    finally:
        if not keep:
            path.unlink(missing_ok=True)


def _run_editor(path: Path) -> None:
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    try:
        code = subprocess.run([*shlex.split(editor), str(path)], check=False).returncode
    except (OSError, ValueError) as exc:  # not found, not executable, unbalanced quotes
        raise EditorFailed(editor, f"could not be started ({exc})") from exc
    if code != 0:
        raise EditorFailed(editor, f"exited with code {code}")
