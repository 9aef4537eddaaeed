"""The promptctl half of the benchmark, run by ``run.py`` in a child process of its own.

Two modes, each writing its figures as JSON to ``--json-out``:

``index-build``
    Time the first call on a registry nobody has read yet (the version index is built).
``workload``
    Time figures (a)-(h) and the index update of (j) in this process, through
    promptctl's public API, on a registry made by ``generate.py`` (packed) or
    ``grow.py`` (grown by promptctl, loose) whose index is built.
``writes``
    Figures (f) and (a) alone, as ``workload`` times them: for comparing write paths
    without the reads in between.

Reads come first, then writes (alias moves, registrations, commits made with plain
Git), so that every read sees the registry as generated. Each call's result is checked,
so a fast wrong answer cannot pass for a fast right one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import generate
from measure import Stats, time_calls

import promptctl

TEAM_FILTER = "tags.team = 'team3'"


def _check(condition: bool, what: str) -> None:
    """Stop the benchmark on a wrong answer (``assert`` would vanish under ``-O``)."""
    if not condition:
        raise SystemExit(f"wrong result: {what}")


def index_build(registry: Path) -> dict[str, Any]:
    """Time opening the registry and the first load, which builds the version index."""
    start = time.perf_counter()
    reg = promptctl.Registry(registry)
    prompt = reg.load_prompt("p0001@production", cache_ttl_seconds=0)
    seconds = time.perf_counter() - start
    reg.close()
    _check(prompt.name == "p0001", "first load after the index build")
    return {"index_build": Stats.of([seconds]).to_json()}


class Workload:
    """Figures (a)-(h) and the index update, on one open :class:`promptctl.Registry`."""

    def __init__(self, registry: Path, spec: generate.Spec, reps: int, write_reps: int,
                 fast_samples: int, batch: int) -> None:
        self.path = registry
        self.spec = spec
        self.reps = reps
        self.write_reps = write_reps
        self.fast_samples = fast_samples
        self.batch = batch
        self.reg = promptctl.Registry(registry)
        self.rng = random.Random(20240601)
        self.figures: dict[str, Stats] = {}

    def run(self) -> dict[str, Any]:
        """Every figure, in an order where reads see the registry as generated."""
        self.reg.load_prompt("p0000/1", cache_ttl_seconds=0)  # make sure the index is current
        self.load_by_version()
        self.load_by_alias()
        self.cached_load()
        self.format()
        self.search()
        self.history()
        self.move_alias()
        self.register()
        self.index_update()
        self.reg.close()
        return {key: stats.to_json() for key, stats in self.figures.items()}

    def writes(self) -> dict[str, Any]:
        """Figures (f) and (a) alone (``writes`` mode): alias moves, then registrations."""
        self.reg.load_prompt("p0000/1", cache_ttl_seconds=0)  # make sure the index is current
        self.move_alias()
        self.register()
        self.reg.close()
        return {key: stats.to_json() for key, stats in self.figures.items()}

    def _pick(self, count: int) -> list[str]:
        return [generate.prompt_name(self.rng.randrange(self.spec.prompts)) for _ in range(count)]

    def _spread(self, count: int) -> list[str]:
        """``count`` names, each prompt once before any prompt twice."""
        order = self.spec.names
        self.rng.shuffle(order)
        return [order[i % len(order)] for i in range(count)]

    # -- reads --------------------------------------------------------------------------

    def load_by_version(self) -> None:
        """(b) ``load_prompt("pNNNN/v", cache_ttl_seconds=0)`` on random prompts."""
        names = self._pick(self.reps)
        versions = [self.rng.randint(1, self.spec.versions) for _ in names]

        def call(i: int) -> None:
            prompt = self.reg.load_prompt(f"{names[i]}/{versions[i]}", cache_ttl_seconds=0)
            _check(prompt.version == versions[i], f"{names[i]}/{versions[i]}")

        self.figures["load_version"] = time_calls(call, self.reps)

    def load_by_alias(self) -> None:
        """(c) ``load_prompt("pNNNN@production", cache_ttl_seconds=0)`` on random prompts."""
        names = self._pick(self.reps)
        expected = self.spec.versions - 1

        def call(i: int) -> None:
            prompt = self.reg.load_prompt(f"{names[i]}@production", cache_ttl_seconds=0)
            _check(prompt.version == expected, f"{names[i]}@production")

        self.figures["load_alias"] = time_calls(call, self.reps)

    def cached_load(self) -> None:
        """(d) ``load_prompt("p0001@production")`` served from the in-process cache."""
        load = self.reg.load_prompt
        _check(load("p0001@production").version == self.spec.versions - 1, "cached load")
        self.figures["load_cached"] = time_calls(
            lambda i: load("p0001@production"), self.fast_samples, batch=self.batch)

    def format(self) -> None:
        """(e) ``prompt.format(role=…, question=…, language=…)``."""
        prompt = self.reg.load_prompt("p0001@production")
        values = generate.VARIABLES
        text = prompt.format(**values)
        _check(isinstance(text, str) and values["question"] in text and "{{" not in text,
               "format")
        self.figures["format"] = time_calls(
            lambda i: prompt.format(**values), self.fast_samples, batch=self.batch)

    def search(self) -> None:
        """(g) ``search_prompts("tags.team = 'team3'")``, the whole result list."""
        expected = self.spec.team_count("team3")

        def call(i: int) -> None:
            found = self.reg.search_prompts(TEAM_FILTER)
            _check(len(found) == expected, f"search found {len(found)}, not {expected}")

        self.figures["search"] = time_calls(call, max(5, self.reps // 4))

    def history(self) -> None:
        """(h) ``history("deep")``: every version of the D-version prompt."""
        def call(i: int) -> None:
            versions = self.reg.history(generate.DEEP)
            _check(len(versions) == self.spec.deep, f"history of deep has {len(versions)}")

        self.figures["history_deep"] = time_calls(call, max(5, self.reps // 4))

    # -- writes -------------------------------------------------------------------------

    def move_alias(self) -> None:
        """(f) ``set_alias(name, "production", V)``: one version up (back down on a 2nd pass).

        Each move must leave its record in the alias log (``alias_history``) as well as
        move the tag: the log is part of what a move costs.
        """
        names = self._spread(self.write_reps + 3)  # the last three serve the warm-up calls
        spec = self.spec
        logged = {name: len(self.reg.alias_history(name, "production")) for name in set(names)}

        def target(j: int) -> int:
            return spec.versions if (j // spec.prompts) % 2 == 0 else spec.versions - 1

        def call(i: int) -> None:
            j = i if i >= 0 else self.write_reps - 1 - i
            self.reg.set_alias(names[j], "production", target(j))

        self.figures["set_alias"] = time_calls(call, self.write_reps)
        last = self.write_reps - 1
        moved = self.reg.load_prompt(f"{names[last]}@production", cache_ttl_seconds=0)
        _check(moved.version == target(last), "alias moved")
        records = sum(len(self.reg.alias_history(name, "production")) - count
                      for name, count in logged.items())
        _check(records == len(names), f"{records} alias-log records for {len(names)} moves")

    def register(self) -> None:
        """(a) ``register_prompt`` a new version of a V-version prompt, and of ``deep``."""
        counts: dict[str, int] = {}
        names = self._spread(self.write_reps + 3)

        def register(name: str, i: int) -> None:
            base = self.spec.deep if name == generate.DEEP else self.spec.versions
            fields = generate.prompt_fields(name, f"bench {i}")
            version = self.reg.register_prompt(
                name, fields["template"], f"{name}: benchmark version {i}",
                model_config=fields["model_config"], tags=fields["tags"],
                description=fields["description"],
            )
            counts[name] = counts.get(name, base) + 1
            _check(version.version == counts[name], f"{name} registered as {version.version}")

        self.figures["register"] = time_calls(
            lambda i: register(names[i], i), self.write_reps)
        self.figures["register_deep"] = time_calls(
            lambda i: register(generate.DEEP, i), self.write_reps)

    def index_update(self) -> None:
        """(j) The first load after a commit made with plain Git: the index catches up."""
        names = self._pick(self.write_reps)
        samples = []
        for i, name in enumerate(names):
            expected = len(self.reg.history(name)) + 1
            file = self.path / "prompts" / f"{name}.yaml"
            file.write_text(generate.prompt_yaml(name, f"plain git {i}"))
            subprocess.run(["git", "-C", str(self.path), "commit", "--quiet", "-m",
                            f"{name}: edited with plain git", "--", str(file)], check=True)
            start = time.perf_counter()
            prompt = self.reg.load_prompt(name, cache_ttl_seconds=0)
            samples.append(time.perf_counter() - start)
            _check(prompt.version == expected and "plain git" in prompt.commit_message,
                   f"{name} after a plain git commit is version {prompt.version}")
        self.figures["index_update"] = Stats.of(samples)


def main(argv: list[str] | None = None) -> int:
    """Command line (used by ``run.py``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["index-build", "workload", "writes"])
    parser.add_argument("--registry", type=Path, required=True)
    parser.add_argument("--json-out", type=Path, required=True)
    parser.add_argument("--prompts", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=5)
    parser.add_argument("--deep", type=int, default=1000)
    parser.add_argument("--reps", type=int, default=200, help="samples of each read figure")
    parser.add_argument("--write-reps", type=int, default=50, help="samples of each write")
    parser.add_argument("--fast-samples", type=int, default=50)
    parser.add_argument("--batch", type=int, default=1000, help="calls per µs-level sample")
    args = parser.parse_args(argv)
    if args.mode == "index-build":
        figures = index_build(args.registry)
    else:
        spec = generate.Spec(args.prompts, args.versions, args.deep)
        workload = Workload(args.registry, spec, args.reps, args.write_reps, args.fast_samples,
                            args.batch)
        figures = workload.writes() if args.mode == "writes" else workload.run()
    info = {"promptctl": getattr(promptctl, "__version__", "?"),
            "python": platform.python_version(), "pid": os.getpid()}
    args.json_out.write_text(json.dumps({"figures": figures, "info": info}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
