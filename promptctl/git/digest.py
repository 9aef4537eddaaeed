"""SHA-1, as git names objects and checks its index file, at the lowest start-up cost.

``hashlib`` loads OpenSSL when imported (3-5 ms, more than a whole alias move takes),
while CPython's own ``_sha1`` is there at once but hashes ~8x slower per byte. Inputs
up to :data:`SMALL` bytes (a prompt file, a commit, a tag, the trees and index of a
registry of a few thousand prompts) go to ``_sha1``; larger ones pay for OpenSSL, which
then costs less than ``_sha1`` would.
"""

from __future__ import annotations

try:
    from _sha1 import sha1 as _small  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - a Python built without it
    _small = None

SMALL = 512 * 1024


def sha1(data: bytes | bytearray) -> bytes:
    """The 20-byte SHA-1 digest of ``data``."""
    if _small is not None and len(data) <= SMALL:
        return bytes(_small(data).digest())
    import hashlib

    return hashlib.sha1(data).digest()
