"""The cold ``promptctl load``: answered without the registry, when that is exact.

Tried before everything else (see ``promptctl.cli._run``): a ``load REF [--var K=V …]``
command line, plain text out, is answered by ``promptctl.coldload`` from what the last
load kept or straight from the version index and Git. Anything it cannot answer exactly
as the whole way would (another option, an index to bring up to date, a file only YAML
reads, a missing or unused value) goes on to the fast path, untouched.
"""

from __future__ import annotations

import os

from .. import coldload
from . import views
from .grammar import parse, parse_pairs

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence


def run(args: Sequence[str]) -> bool:
    """Print what ``args`` (a ``load``) prints, if the cold load answers it; ``False``:
    nothing was done."""
    call = parse(args, os.environ)
    if call is None or call.command != "load" or call.json or call.values.keys() - {"var"}:
        return False
    filled = coldload.load(call.registry, call.args[0], parse_pairs(call.values.get("var"),
                                                                     "--var"))
    if filled is None:
        return False
    views.body(filled)
    return True
