"""Start-up stays light: ``promptctl load`` imports only what a load uses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from promptctl import Registry
from promptctl.cli import lock as lock_command
from promptctl.formats.lockfile import DEFAULT_LOCK_FILE

# Modules a load by alias never needs: each costs milliseconds on every start.
NOT_ON_THE_LOAD_PATH = (
    "git",  # GitPython: ~50 ms
    "rich",
    "promptctl.aliases",
    "promptctl.formats.aliaslog",
    "promptctl.compare",
    "promptctl.formats.config",
    "promptctl.gitobjects",
    "promptctl.formats.lockfile",
    "promptctl.pinning",
    "promptctl.push",
    "promptctl.remote",
    "promptctl.review",
    "promptctl.formats.search_filter",
    "promptctl.writing",
)

_RUN_CLI = """
import runpy, sys
sys.argv = ["promptctl", *sys.argv[1:]]
try:
    runpy.run_module("promptctl", run_name="__main__")
except SystemExit as exc:
    assert not exc.code, exc.code
print("\\n".join(sorted(sys.modules)), file=sys.stderr)
"""


def test_load_imports_only_what_it_uses(registry: Registry, repo_path: Path) -> None:
    registry.register_prompt("s", "Hello {{ name }}\n", "first")
    registry.set_alias("s", "production", 1)
    registry.close()
    result = subprocess.run(
        [sys.executable, "-c", _RUN_CLI, "--registry", str(repo_path), "load", "s@production",
         "--var", "name=Ada"],
        capture_output=True, text=True, check=True, env=os.environ,
    )
    assert result.stdout == "Hello Ada\n"
    loaded = set(result.stderr.split())
    assert "promptctl.registry" in loaded
    assert sorted(loaded.intersection(NOT_ON_THE_LOAD_PATH)) == []


def test_cli_lock_default_is_the_library_default() -> None:
    assert lock_command.DEFAULT_LOCK_FILE == DEFAULT_LOCK_FILE
