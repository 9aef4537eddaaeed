"""Lock files: pin references, load through the pins, tell CI when the file is stale."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from promptctl import Conflict, NotFound, Registry
from promptctl.errors import InvalidLockFile, LockFileNotFound, LockMismatch, NotLocked
from promptctl.formats.lockfile import (
    Lock,
    LockedPrompt,
    dump_lock,
    parse_lock,
    read_lock,
    write_lock,
)

from .helpers import Run, git, tick

NAME = "support/summarize"
COMMIT = "a" * 40
SHA = "b" * 64


@pytest.fixture
def reg(registry: Registry) -> Registry:
    """support/summarize versions 1-3 with production at 2; greet version 1 at staging."""
    for n in (1, 2, 3):
        tick()
        registry.register_prompt(NAME, f"Summary v{n} of {{{{ticket}}}}\n", f"note {n}")
    tick()
    registry.register_prompt("greet", "Hello {{name}}\n", "first")
    registry.set_alias(NAME, "production", 2)
    registry.set_alias("greet", "staging", 1)
    return registry


@pytest.fixture
def lock_path(tmp_path: Path) -> Path:
    return tmp_path / "app" / "promptctl.lock"


def file_bytes(repo: Path, commit: str, name: str) -> bytes:
    return git(repo, "cat-file", "blob", f"{commit}:prompts/{name}.yaml").encode()


# -- the API ------------------------------------------------------------------------------


def test_lock_pins_version_commit_and_content_hash(reg: Registry, repo_path: Path) -> None:
    lock = reg.lock([f"prompts:/{NAME}@production", "greet", f"{NAME}/1"])
    assert lock.refs == ("greet@latest", f"{NAME}/1", f"{NAME}@production")
    pin = lock.get(f"{NAME}@production")
    assert pin is not None and (pin.name, pin.version) == (NAME, 2)
    assert pin.commit == reg.history(NAME)[1].commit
    assert pin.sha256 == hashlib.sha256(file_bytes(repo_path, pin.commit, NAME)).hexdigest()


def test_load_through_the_lock_keeps_the_pinned_version(reg: Registry, lock_path: Path) -> None:
    lock_path.parent.mkdir()
    write_lock(lock_path, reg.lock([f"{NAME}@production", "greet"]))
    reg.set_alias(NAME, "production", 3, "promote")
    tick()
    reg.register_prompt("greet", "Hi {{name}}\n", "second")
    assert reg.load_prompt(f"{NAME}@production").version == 3
    for ttl in (0, 60, 60):  # uncached, then cached: same pinned answer
        pinned = reg.load_prompt(f"prompts:/{NAME}@production", lock_file=lock_path,
                                 cache_ttl_seconds=ttl)
        assert (pinned.version, pinned.template) == (2, "Summary v2 of {{ticket}}\n")
    assert reg.load_prompt("greet", lock_file=str(lock_path)).format(name="A") == "Hello A\n"


def test_ref_missing_from_the_lock_names_the_file(reg: Registry, lock_path: Path) -> None:
    lock_path.parent.mkdir()
    write_lock(lock_path, reg.lock([f"{NAME}@production"]))
    with pytest.raises(NotLocked) as caught:
        reg.load_prompt(f"{NAME}@staging", lock_file=lock_path)
    assert isinstance(caught.value, NotFound) and caught.value.exit_code == 3
    assert f"{NAME}@staging is not pinned in lock file {lock_path}" in str(caught.value)
    with pytest.raises(NotLocked, match=f"{NAME}/3 is not pinned"):
        reg.load_prompt(NAME, 3, lock_file=lock_path)  # version= counts as the reference
    with pytest.raises(LockFileNotFound, match=r"no lock file at .*nowhere\.lock"):
        reg.load_prompt(NAME, lock_file=lock_path.with_name("nowhere.lock"))


def test_tampered_content_hash_is_refused(reg: Registry, lock_path: Path) -> None:
    lock_path.parent.mkdir()
    write_lock(lock_path, reg.lock([f"{NAME}@production"]))
    data = json.loads(lock_path.read_text())
    data["prompts"][f"{NAME}@production"]["sha256"] = SHA
    lock_path.write_text(json.dumps(data))
    with pytest.raises(LockMismatch) as caught:
        reg.load_prompt(f"{NAME}@production", lock_file=lock_path)
    assert isinstance(caught.value, Conflict) and caught.value.exit_code == 4
    assert str(lock_path) in str(caught.value) and "the lock pins bbbbbbbbbbbb" in str(caught.value)
    [drift] = reg.check_lock(lock_path)
    assert (drift.kind, drift.ref) == ("content", f"{NAME}@production")
    assert "does not match the locked sha256" in drift.description


def test_rewritten_history_is_caught_by_load_and_check(reg: Registry, repo_path: Path,
                                                       lock_path: Path) -> None:
    lock_path.parent.mkdir()
    write_lock(lock_path, reg.lock([f"{NAME}/2"]))
    git(repo_path, "reset", "-q", "--hard", reg.history(NAME)[0].commit)
    tick()
    reg.register_prompt(NAME, "A different v2 {{ticket}}\n", "rewritten")
    with pytest.raises(LockMismatch, match="version 2 has sha256"):
        reg.load_prompt(f"{NAME}/2", lock_file=lock_path)
    [drift] = reg.check_lock(lock_path)
    assert drift.kind == "rewritten" and "history was rewritten, and its content differs" in (
        drift.description)


def test_check_lock_reports_each_kind_of_drift(reg: Registry, lock_path: Path) -> None:
    lock_path.parent.mkdir()
    write_lock(lock_path, reg.lock([f"{NAME}@production", "greet@staging"]))
    assert reg.check_lock(lock_path) == []
    reg.set_alias(NAME, "production", 3)
    reg.delete_alias("greet", "staging")
    drifts = {d.ref: d for d in reg.check_lock(lock_path)}
    assert drifts[f"{NAME}@production"].description == (
        f"{NAME}@production: now version 3, locked at version 2")
    assert drifts["greet@staging"].kind == "unresolved"
    assert "no alias 'staging'" in drifts["greet@staging"].description
    # With refs: what `lock REF…` would change, added and dropped references included.
    kinds = {d.ref: d.kind for d in reg.check_lock(lock_path, [f"{NAME}@production", "greet"])}
    assert kinds == {f"{NAME}@production": "moved", "greet@latest": "unlocked",
                     "greet@staging": "unrequested"}


# -- the file -----------------------------------------------------------------------------


def test_file_round_trips_with_stable_bytes(lock_path: Path) -> None:
    lock = Lock.of([LockedPrompt(f"{NAME}@production", NAME, 2, COMMIT, SHA),
                    LockedPrompt("greet@latest", "greet", 1, COMMIT, SHA)])
    lock_path.parent.mkdir()
    write_lock(lock_path, lock)
    text = lock_path.read_text()
    assert read_lock(lock_path) == lock and dump_lock(parse_lock(text, "x")) == text
    assert json.loads(text)["prompts"][f"{NAME}@production"] == {
        "name": NAME, "version": 2, "commit": COMMIT, "sha256": SHA}
    assert list(lock_path.parent.iterdir()) == [lock_path]  # no temporary file left


@pytest.mark.parametrize(("text", "problem"), [
    ("not json", "x.lock: not valid JSON"),
    ('{"lock_version": 2, "prompts": {}}', "x.lock: lock_version: 2 is not supported"),
    ('{"lock_version": 1, "prompts": {"s": {}}}', "x.lock: s: write the reference as 's@latest'"),
    ('{"lock_version": 1, "prompts": {"s@latest": {"name": "t"}}}', "s@latest: name must be 's'"),
    (json.dumps({"lock_version": 1, "prompts": {"s/2": {
        "name": "s", "version": 3, "commit": COMMIT, "sha256": SHA}}}), "s/2: version must be 2"),
    (json.dumps({"lock_version": 1, "prompts": {"s@latest": {
        "name": "s", "version": 1, "commit": "abc", "sha256": SHA}}}), "commit must be a full"),
    (json.dumps({"lock_version": 1, "prompts": {"s@latest": {
        "name": "s", "version": 1, "commit": COMMIT, "sha256": "x"}}}), "sha256 must be 64 hex"),
])
def test_malformed_lock_files_are_refused(text: str, problem: str) -> None:
    with pytest.raises(InvalidLockFile, match=problem.replace("'", ".")) as caught:
        parse_lock(text, "x.lock")
    assert caught.value.exit_code == 2


# -- the command --------------------------------------------------------------------------


@pytest.fixture
def cli(reg: Registry, repo_path: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    return Run(repo_path, capsys)


def test_cli_lock_check_and_relock(cli: Run, reg: Registry, lock_path: Path) -> None:
    lock_path.parent.mkdir()
    file = str(lock_path)
    code, out, err = cli("lock", f"{NAME}@production", "greet", "--file", file)
    assert code == 0 and err == f"wrote {file} (2 reference(s))\n"
    assert out.splitlines()[1].startswith(f"{NAME}@production  version 2  commit ")
    written = lock_path.read_bytes()
    assert cli("lock", "--file", file)[0] == 0 and lock_path.read_bytes() == written
    assert cli("lock", "--check", "--file", file) == (0, "", f"{file} is current\n")

    reg.set_alias(NAME, "production", 3, "promote")
    code, out, err = cli("lock", "--check", "--file", file)
    assert code == 1 and out == f"{NAME}@production: now version 3, locked at version 2\n"
    assert err.startswith(f"{file} is stale: 1 change(s)")
    assert lock_path.read_bytes() == written  # --check writes nothing

    assert cli("lock", "--file", file)[0] == 0  # no REF: re-resolve what the file pins
    assert read_lock(lock_path).refs == ("greet@latest", f"{NAME}@production")
    pin = read_lock(lock_path).get(f"{NAME}@production")
    assert pin is not None and pin.version == 3
    assert cli("lock", "--check", "--file", file)[0] == 0


def test_cli_json_output(cli: Run, reg: Registry, lock_path: Path) -> None:
    lock_path.parent.mkdir()
    code, out, _ = cli("--json", "lock", f"{NAME}@production", "-f", str(lock_path))
    data = json.loads(out)
    assert code == 0 and data["file"] == str(lock_path)
    assert [(p["ref"], p["version"]) for p in data["prompts"]] == [(f"{NAME}@production", 2)]
    reg.set_alias(NAME, "production", 1, "roll back")
    code, out, _ = cli("--json", "lock", "--check", "-f", str(lock_path))
    data = json.loads(out)
    assert code == 1 and data["current"] is False
    [drift] = data["drifts"]
    assert (drift["kind"], drift["locked"]["version"], drift["current"]["version"]) == (
        "moved", 2, 1)


def test_cli_default_file_and_errors(cli: Run, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = cli("lock")
    assert (code, out) == (3, "") and err == (
        "error: no lock file at promptctl.lock (make one: promptctl lock REF…)\n")
    assert cli("lock", "--check")[0] == 3
    code, out, err = cli("lock", f"{NAME}@nope")
    assert (code, out) == (3, "") and "has no alias 'nope'" in err
    assert not (tmp_path / "promptctl.lock").exists()  # a failed lock writes nothing
    assert cli("lock", f"{NAME}@production")[0] == 0
    assert read_lock(tmp_path / "promptctl.lock").refs == (f"{NAME}@production",)
    (tmp_path / "promptctl.lock").write_text("{}")
    code, _, err = cli("lock", "--check")
    assert code == 2 and err.startswith("error: promptctl.lock: lock_version: None")


def test_cli_load_through_the_lock(cli: Run, reg: Registry, lock_path: Path) -> None:
    lock_path.parent.mkdir()
    assert cli("lock", f"{NAME}@production", "--file", str(lock_path))[0] == 0
    pinned = reg.load_prompt(f"{NAME}@production", cache_ttl_seconds=0)
    reg.set_alias(NAME, "production", 3, "promote")
    code, out, _ = cli("--json", "load", f"{NAME}@production", "--lock-file", str(lock_path))
    assert code == 0 and json.loads(out)["version"] == pinned.version
    code, out, err = cli("load", "greet@latest", "--lock-file", str(lock_path))
    assert code == 3 and out == "" and str(lock_path) in err
