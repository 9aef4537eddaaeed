"""``python -m promptctl``: the same as the ``promptctl`` command."""

from .cli import entry

entry()
