"""Start-up stays light: ``promptctl load`` imports only what a load uses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from promptctl import Registry
from promptctl.cli import lock as lock_command
from promptctl.formats.lockfile import DEFAULT_LOCK_FILE

from .helpers import git

# Modules a load by alias never needs: each costs milliseconds on every start.
NOT_ON_THE_LOAD_PATH = (
    "git",  # GitPython: ~30 ms, and not a dependency any more
    "hashlib",  # OpenSSL, ~2.5 ms: only writes compute object ids
    "random",  # with tempfile and shutil: ~4 ms for what only writes use
    "rich",
    "tempfile",
    "typer",  # ~25 ms with building every click command: the fast path skips it
    "promptctl.aliases",
    "promptctl.formats.aliaslog",
    "promptctl.compare",
    "promptctl.formats.config",
    "promptctl.formats.lockfile",
    "promptctl.mutex",
    "promptctl.pinning",
    "promptctl.push",
    "promptctl.remote",
    "promptctl.review",
    "promptctl.formats.search_filter",
    "promptctl.git.commits",  # the parts of a Repo that write: ~4 ms
    "promptctl.git.identity",
    "promptctl.git.records",
    "promptctl.git.remotes",
    "promptctl.git.worktree",
    "promptctl.writing",
)

# The fast path ends the process with os._exit once its output is flushed: the modules
# are listed there, and only there (a load that took the Typer path lists nothing).
_RUN_CLI = """
import os, runpy, sys
sys.argv = ["promptctl", *sys.argv[1:]]
quit_now = os._exit

def listed_exit(code):
    print("\\n".join(sorted(sys.modules)), file=sys.stderr, flush=True)
    quit_now(code)

os._exit = listed_exit
runpy.run_module("promptctl", run_name="__main__")
"""


def _cold_load(repo_path: Path, ref: str) -> set[str]:
    """The modules a fresh ``promptctl load REF --var name=Ada`` process imported, when
    it took the whole way (the first cold load, ``coldload``, could not answer)."""
    result = subprocess.run(
        [sys.executable, "-c", _RUN_CLI, "--registry", str(repo_path), "load", ref,
         "--var", "name=Ada"],
        capture_output=True, text=True, check=True, env=os.environ,
    )
    assert result.stdout == "Hello Ada\n"
    loaded = set(result.stderr.split())
    assert "promptctl.registry" in loaded
    return loaded


def test_load_imports_only_what_it_uses(registry: Registry, repo_path: Path) -> None:
    """The whole way, for a file in a form only YAML reads (test_firstload has the
    process that a plain one takes)."""
    registry.register_prompt("s", "Hello {{ name }}\n", "first")
    (repo_path / "prompts" / "s.yaml").write_text("template: 'Hello {{ name }}'\n")
    git(repo_path, "commit", "-qam", "quoted by hand")
    registry.set_alias("s", "production", 2)
    registry.load_prompt("s@production")  # the index is current: the warm case
    registry.close()
    assert sorted(_cold_load(repo_path, "s@production").intersection(NOT_ON_THE_LOAD_PATH)) == []


def test_a_cold_load_after_a_fresh_commit_imports_no_more(registry: Registry,
                                                          repo_path: Path) -> None:
    registry.register_prompt("s", "Hello {{ name }}\n", "first")
    registry.close()
    # A hand edit the index has not seen: the load walks the new commit first.
    (repo_path / "prompts" / "other.yaml").write_text("template: other\n")
    git(repo_path, "add", "prompts/other.yaml")
    git(repo_path, "commit", "-qm", "hand edit")
    assert sorted(_cold_load(repo_path, "s").intersection(NOT_ON_THE_LOAD_PATH)) == []


def test_a_load_through_an_alias_on_an_unrelated_commit_imports_no_more(
        registry: Registry, repo_path: Path) -> None:
    registry.register_prompt("s", "Hello {{ name }}\n", "first")
    registry.register_prompt("other", "unrelated\n", "other")  # did not change s
    registry.close()
    git(repo_path, "tag", "-a", "-m", "by hand", "prompts/s@production", "HEAD")
    assert sorted(_cold_load(repo_path, "s@production").intersection(NOT_ON_THE_LOAD_PATH)) == []


def test_the_whole_way_on_plain_files_imports_no_yaml(registry: Registry,
                                                      repo_path: Path) -> None:
    """PyYAML (~10 ms to import) is for files only YAML reads or writes, and hashlib
    (OpenSSL, 3-5 ms) for large objects and remote registries: a whole-way load, an alias
    move and a register of plain files in a small local registry import neither."""
    registry.register_prompt("s", "Hello {{ name }}\n", "first")
    registry.close()
    for args in (["--json", "load", "s", "--var", "name=Ada"],
                 ["alias", "set", "s", "production", "1"],
                 ["register", "s", "-t", "Hi {{ name }}", "-m", "shorter"]):
        done = subprocess.run([sys.executable, "-c", _RUN_CLI, "--registry", str(repo_path),
                               *args], capture_output=True, text=True, check=True,
                              env=os.environ)
        loaded = set(done.stderr.split())
        assert "promptctl.registry" in loaded, args
        assert not loaded.intersection({"yaml", "hashlib"}), args


def test_cli_lock_default_is_the_library_default() -> None:
    assert lock_command.DEFAULT_LOCK_FILE == DEFAULT_LOCK_FILE
