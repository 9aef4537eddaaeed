"""SHA-1, as git names objects and checks its index file, at the lowest start-up cost.

``hashlib`` loads OpenSSL when imported (3-5 ms, more than a whole alias move takes),
while CPython's own ``_sha1`` is there at once but hashes ~8x slower per byte. So a
process hashes its first :data:`BUDGET` bytes with ``_sha1`` (a command-line register or
alias move of a registry of a few thousand prompts never needs more: ~0.8 ms of slower
hashing at most) and everything after with ``hashlib``, as a long-running application
or a large registry is better served.
"""

from __future__ import annotations

try:
    from _sha1 import sha1 as _small  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - a Python built without it
    _small = None

BUDGET = 256 * 1024
_hashed = 0  # bytes hashed by _sha1 so far (an estimate under threads, which is enough)


def sha1(data: bytes | bytearray) -> bytes:
    """The 20-byte SHA-1 digest of ``data``."""
    global _hashed
    if _small is not None and _hashed + len(data) <= BUDGET:
        _hashed += len(data)
        return bytes(_small(data).digest())
    _hashed = BUDGET  # from now on OpenSSL, even for small inputs
    import hashlib

    return hashlib.sha1(data).digest()
