"""The MLflow half of the benchmark: the same workload on MLflow's Prompt Registry.

Run by ``run.py`` with an interpreter that has MLflow (``--mlflow-python``), against a
local SQLite store (``MLFLOW_TRACKING_URI=sqlite:///…``). It first builds the registry
through MLflow's own API (``mlflow.genai.register_prompt`` for every version,
``set_prompt_alias`` for every alias: MLflow has no faster bulk path), then times the
figures that ``bench_promptctl.py`` times, with ``cache_ttl_seconds=0`` wherever the
promptctl side bypasses its cache. Results go as JSON to ``--json-out``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import generate
from measure import Stats, time_calls

warnings.filterwarnings("ignore")  # MLflow's FutureWarnings about the genai namespace

import mlflow
from mlflow import MlflowClient

TEAM_FILTER = "tags.team = 'team3'"


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise SystemExit(f"wrong result from MLflow: {what}")


def _register(name: str, revision: object, message: str) -> Any:
    fields = generate.prompt_fields(name, revision)
    return mlflow.genai.register_prompt(
        name=name, template=fields["template"], commit_message=message,
        tags=fields["tags"], model_config=fields["model_config"],
    )


def build(spec: generate.Spec) -> float:
    """Register every version and alias of the workload; return the seconds it took."""
    start = time.perf_counter()
    for done, (name, version) in enumerate(generate.version_order(spec), start=1):
        _register(name, version, f"{name}: version {version}")
        if done % 1000 == 0:
            print(f"mlflow: {done} versions registered", file=sys.stderr, flush=True)
    for name in [*spec.names, generate.DEEP]:
        newest = spec.deep if name == generate.DEEP else spec.versions
        mlflow.genai.set_prompt_alias(name, "production", newest - 1)
        mlflow.genai.set_prompt_alias(name, "staging", newest)
    return time.perf_counter() - start


class Workload:
    """Figures (a)-(h) on MLflow, in the order ``bench_promptctl.Workload`` runs them."""

    def __init__(self, spec: generate.Spec, reps: int, write_reps: int, fast_samples: int,
                 batch: int) -> None:
        self.spec = spec
        self.reps = reps
        self.write_reps = write_reps
        self.fast_samples = fast_samples
        self.batch = batch
        self.rng = random.Random(20240601)
        self.figures: dict[str, Stats] = {}

    def _pick(self, count: int) -> list[str]:
        return [generate.prompt_name(self.rng.randrange(self.spec.prompts)) for _ in range(count)]

    def run(self) -> dict[str, Any]:
        """Every figure; reads first, then writes."""
        load = mlflow.genai.load_prompt
        spec = self.spec

        names = self._pick(self.reps)
        versions = [self.rng.randint(1, spec.versions) for _ in names]

        def by_version(i: int) -> None:
            prompt = load(f"prompts:/{names[i]}/{versions[i]}", cache_ttl_seconds=0)
            _check(int(prompt.version) == versions[i], "load by version")

        self.figures["load_version"] = time_calls(by_version, self.reps)

        alias_names = self._pick(self.reps)

        def by_alias(i: int) -> None:
            prompt = load(f"prompts:/{alias_names[i]}@production", cache_ttl_seconds=0)
            _check(int(prompt.version) == spec.versions - 1, "load by alias")

        self.figures["load_alias"] = time_calls(by_alias, self.reps)

        load("prompts:/p0001@production")  # fills MLflow's cache (default TTL 60 s)
        self.figures["load_cached"] = time_calls(
            lambda i: load("prompts:/p0001@production"), self.fast_samples, batch=self.batch)

        prompt = load("prompts:/p0001@production")
        values = generate.VARIABLES
        _check(values["question"] in prompt.format(**values), "format")
        self.figures["format"] = time_calls(
            lambda i: prompt.format(**values), self.fast_samples, batch=self.batch)

        expected = spec.team_count("team3")

        def search(i: int) -> None:
            found = mlflow.genai.search_prompts(filter_string=TEAM_FILTER)
            _check(len(found) == expected, f"search found {len(found)}, not {expected}")

        self.figures["search"] = time_calls(search, max(5, self.reps // 4))

        client = MlflowClient()

        def history(i: int) -> None:
            found: list[Any] = []
            token = None
            while True:  # one page of 10,000 in practice: the most favourable page size
                page = client.search_prompt_versions(generate.DEEP, max_results=10_000,
                                                     page_token=token)
                found.extend(page)
                token = page.token
                if not token:
                    break
            _check(len(found) == spec.deep, f"history of deep has {len(found)}")

        self.figures["history_deep"] = time_calls(history, max(5, self.reps // 4))

        alias_order = list(spec.names)
        self.rng.shuffle(alias_order)

        def move_alias(i: int) -> None:
            j = i if i >= 0 else self.write_reps - 1 - i
            target = spec.versions if (j // spec.prompts) % 2 == 0 else spec.versions - 1
            mlflow.genai.set_prompt_alias(alias_order[j % spec.prompts], "production", target)

        self.figures["set_alias"] = time_calls(move_alias, self.write_reps)

        reg_order = list(spec.names)
        self.rng.shuffle(reg_order)
        self.figures["register"] = time_calls(
            lambda i: _register(reg_order[i % spec.prompts], f"bench {i}", "benchmark"),
            self.write_reps)
        self.figures["register_deep"] = time_calls(
            lambda i: _register(generate.DEEP, f"bench {i}", "benchmark"), self.write_reps)
        return {key: stats.to_json() for key, stats in self.figures.items()}


def main(argv: list[str] | None = None) -> int:
    """Command line (used by ``run.py``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json-out", type=Path, required=True)
    parser.add_argument("--prompts", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=5)
    parser.add_argument("--deep", type=int, default=1000)
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--write-reps", type=int, default=50)
    parser.add_argument("--fast-samples", type=int, default=50)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--settle", type=float, default=0.0,
                        help="seconds to wait between building and measuring (run.py's)")
    args = parser.parse_args(argv)
    if not os.environ.get("MLFLOW_TRACKING_URI"):
        raise SystemExit("set MLFLOW_TRACKING_URI (e.g. sqlite:////tmp/x/mlflow.db)")
    spec = generate.Spec(args.prompts, args.versions, args.deep)
    build_seconds = build(spec)
    if args.settle > 0:  # as run.py waits after building promptctl's registries
        os.sync()
        time.sleep(args.settle)
    figures = Workload(spec, args.reps, args.write_reps, args.fast_samples, args.batch).run()
    info = {"mlflow": mlflow.__version__, "python": platform.python_version(),
            "build_seconds": build_seconds,
            "build_registrations": spec.prompts * spec.versions + spec.deep}
    args.json_out.write_text(json.dumps({"figures": figures, "info": info}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
