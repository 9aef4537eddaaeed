"""Where a registry is: a folder found from a path or the current directory, or a Git URL.

A registry is a folder holding ``promptctl.yaml`` (or at least ``prompts/``) inside a Git
repository. ``Registry(location)`` takes a folder, a Git URL (``https://``, ``ssh://``,
``file://``, ``git@host:path``) with an optional ``#folder``, or nothing: then
``$PROMPTCTL_REGISTRY``, else the registry containing the current directory. Deciding
which costs no import of ``remote``: a local registry never loads it, and nothing here
imports more than ``os`` and ``re``: the cold ``load`` (``coldload``) finds its registry
with :func:`locate` too.
"""

from __future__ import annotations

import os
import re

from .errors import InvalidInput, RegistryNotFound

CONFIG_FILE = "promptctl.yaml"
ENV_REGISTRY = "PROMPTCTL_REGISTRY"
_SCP_LIKE = re.compile(r"^[\w.+-]+@[\w.-]+:")  # git@host:path


def given(location: str | os.PathLike[str] | None) -> str | None:
    """The location asked for: ``location``, else ``$PROMPTCTL_REGISTRY``, else ``None`` (cwd)."""
    if location is None:
        return os.environ.get(ENV_REGISTRY) or None
    return os.fspath(location)


_SCHEMES = ("https://", "http://", "ssh://", "git://", "file://")


def is_remote(location: str) -> bool:
    """True when ``location`` is a Git URL rather than a folder.

    Only ``https``, ``http``, ``ssh``, ``git``, ``file`` and scp-style ``host:path``
    URLs are accepted: git's other transports (``ext::`` runs a command) are refused
    here, whatever the user's git configuration allows.
    """
    if "::" in location.split("#", 1)[0] or (
            "://" in location and not location.lower().startswith(_SCHEMES)):
        scheme = location.split(":", 1)[0]
        raise InvalidInput(f"unsupported registry URL scheme {scheme!r}: use https://, "
                           "ssh://, git://, file:// or host:path")
    return "://" in location or bool(_SCP_LIKE.match(location))


def split_location(location: str) -> tuple[str, str]:
    """``URL#folder`` as ``(URL, folder)``; the folder is ``""`` for the repository's root."""
    url, _, folder = location.partition("#")
    parts = [part for part in folder.split("/") if part]
    if any(part in (".", "..") for part in parts):
        raise InvalidInput(f"invalid registry folder {folder!r} in {location!r}")
    return url, "/".join(parts)


def locate(location: str | None) -> str:
    """The registry folder (absolute, symlinks resolved) at ``location``, or (``None``) the
    one containing the current directory.

    A Git URL never gets here: ``Registry`` opens those through ``remote.RemoteClone``.
    """
    if location is not None:
        try:
            folder = os.path.realpath(os.path.expanduser(location))
            os.stat(folder)  # realpath() leaves a loop of links for the stat to report
        except (FileNotFoundError, NotADirectoryError):
            raise RegistryNotFound(folder) from None
        except (OSError, ValueError) as exc:  # too long, a loop of links, a NUL byte
            shown = location if len(location) <= 80 else f"{location[:60]}…({len(location)} chars)"
            why = getattr(exc, "strerror", None) or exc
            raise InvalidInput(f"cannot use {shown!r} as a registry folder: {why}") from exc
        if not (os.path.isfile(os.path.join(folder, CONFIG_FILE))
                or os.path.isdir(os.path.join(folder, "prompts"))):
            raise RegistryNotFound(folder)
        return folder
    cwd = os.path.realpath(os.getcwd())
    folder = cwd
    while True:
        if os.path.isfile(os.path.join(folder, CONFIG_FILE)):
            return folder
        parent = os.path.dirname(folder)
        if os.path.exists(os.path.join(folder, ".git")) or parent == folder:
            raise RegistryNotFound(cwd)  # do not leave the repository we are in
        folder = parent


def folder_prefix(root: str, top: str) -> str:
    """Where the registry folder ``root`` sits in the work tree ``top`` that holds it (both
    absolute, links resolved): ``""`` or ``"a/b/"``, as every prompt's path in Git starts.
    The version index is named by it, so the registry and the cold load ask it here."""
    rel = os.path.relpath(root, top)
    return "" if rel == "." else rel.replace(os.sep, "/") + "/"
