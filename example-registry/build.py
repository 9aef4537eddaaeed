"""Build the example registry: a real Git repository with history and aliases.

    python example-registry/build.py            # builds example-registry/registry once

It is built with promptctl's own Python API, with fixed authors and dates so every
build is the same. The result is an ordinary registry: point the CLI at it with
``--registry example-registry/registry``. Delete the folder to build it again.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from promptctl import PromptContent, Registry

TARGET = Path(__file__).resolve().parent / "registry"
ANA = "Ana Ortiz <ana@example.com>"
BEN = "Ben Okafor <ben@example.com>"

SUMMARIZE_V1 = """Summarize the support ticket below.
Ticket: {{ticket}}
"""
SUMMARIZE_V2 = """Summarize the support ticket below in {{ num_sentences }} sentences.
Ticket: {{ticket}}
"""
SUMMARIZE_V3 = """You help the on-call engineer triage quickly.
Summarize the support ticket below in {{ num_sentences }} sentences.
Name the product area first, then the customer's impact.
Ticket: {{ticket}}
"""
SUMMARIZE_V4 = """You help the on-call engineer triage quickly.
Summarize the support ticket below in {{ num_sentences }} sentences.
Name the product area first, then the customer's impact, then any deadline.
Reply in {{ language }}.
Ticket: {{ticket}}
"""

TRIAGE = [
    {"role": "system", "content": "You are a concise support assistant. Answer with one label."},
    {"role": "user", "content": "Label this ticket as bug, billing or how-to:\n{{ticket}}"},
]
TRIAGE_V2 = [
    {"role": "system", "content": "You are a concise support assistant. Answer with one label."},
    {"role": "user", "content": "Label this ticket as bug, billing, outage or how-to:\n{{ticket}}"},
]


def _when(day: int) -> None:
    stamp = f"2026-10-{day:02d}T09:30:00+00:00"
    os.environ["GIT_AUTHOR_DATE"] = stamp
    os.environ["GIT_COMMITTER_DATE"] = stamp


def build(target: Path) -> None:
    """Create the registry at ``target`` with its whole history."""
    _when(1)
    # Its own repository, even when built inside another one (such as promptctl's).
    subprocess.run(["git", "init", "--quiet", "--initial-branch=main", str(target)], check=True)
    reg = Registry.init(target, author=ANA)
    summary_config = {"model_name": "gpt-4o-mini", "temperature": 0.2, "max_tokens": 400}
    tags = {"team": "support", "task": "summarization"}
    steps = [
        (2, ANA, "support/summarize", PromptContent(
            SUMMARIZE_V1, "Summarize a support ticket for the on-call engineer",
            summary_config, tags), "First summary prompt"),
        (5, BEN, "support/summarize", PromptContent(
            SUMMARIZE_V2, "Summarize a support ticket for the on-call engineer",
            summary_config, tags), "Let callers choose the summary length"),
        (9, ANA, "support/summarize", PromptContent(
            SUMMARIZE_V3, "Summarize a support ticket for the on-call engineer",
            {**summary_config, "temperature": 0.1}, tags),
         "Lead with product area and impact; lower temperature"),
        (12, BEN, "support/triage", PromptContent(
            TRIAGE, "Label an incoming ticket", {"model_name": "gpt-4o-mini", "temperature": 0.0},
            {"team": "support", "task": "classification"}), "Triage labels as a chat prompt"),
        (15, BEN, "support/triage", PromptContent(
            TRIAGE_V2, "Label an incoming ticket",
            {"model_name": "gpt-4o-mini", "temperature": 0.0},
            {"team": "support", "task": "classification"}), "Add the outage label"),
        (18, ANA, "marketing/tagline", PromptContent(
            "Write a tagline for {{product}} aimed at {{audience}}.\n", "Product taglines",
            {"model_name": "gpt-4o", "temperature": 0.9}, {"team": "marketing"}),
         "Tagline prompt"),
        (20, ANA, "support/summarize", PromptContent(
            SUMMARIZE_V4, "Summarize a support ticket for the on-call engineer",
            {**summary_config, "temperature": 0.1}, tags),
         "Mention deadlines; answer in the customer's language"),
    ]
    for day, author, name, content, note in steps:
        _when(day)
        reg.register(name, content, note, author=author)
    for day, name, alias, version, why in [
        (10, "support/summarize", "production", 3, "Promote v3 after the triage review"),
        (16, "support/triage", "production", 2, "Outage label is live"),
        (21, "support/summarize", "staging", 4, "Try the language-aware summary"),
        (21, "marketing/tagline", "staging", 1, "First look"),
    ]:
        _when(day)
        reg.set_alias(name, alias, version, why, author=ANA)
    reg.close()


if __name__ == "__main__":
    if (TARGET / ".git").exists():
        print(f"example registry already built at {TARGET}", file=sys.stderr)
    else:
        build(TARGET)
        print(f"example registry built at {TARGET}", file=sys.stderr)
