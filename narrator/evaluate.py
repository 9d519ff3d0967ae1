"""``python -m narrator.evaluate REPO``: how far a manager can trust what the narrator shows.

It narrates REPO with the default budget (cached work is reused), then prints JSON and a table of:

* the share of commit headlines that are people's words (the developer's subject, a pull request's
  title) versus model text or git facts, and where the sentence under each headline came from;
* how many model answers each check kept, edited or dropped (faithfulness, contradicting the
  developer's subject, only repeating it, reading like a commit subject);
* how often the computed category agrees with the developers' own conventional-commit prefixes,
  with the prefix removed before categorising (repositories that use them);
* with ``--csn FILE``: smoothed BLEU-4 of unit summaries against developers' docstrings on
  CodeSearchNet-format rows, base model vs the adapter (published CodeXGLUE anchors for Ruby:
  CodeBERT 12.16, CodeT5-small 14.87, CodeT5+ 220M 15.51).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

from narrator import facts
from narrator.commits import recent_commits
from narrator.errors import NarratorError, run_command
from narrator.metrics import PrefixedCommit, category_accuracy, read_summary_rows, summary_bleu
from narrator.narrate import Budget, narrate_repository
from narrator.repo import open_repository
from narrator.service import NarratorService
from narrator.settings import Settings, load_settings

PEOPLE = ("developer", "pull request")
ANCHORS = {"CodeBERT": 12.16, "CodeT5-small": 14.87, "CodeT5+ 220M": 15.51}
"""Published smoothed BLEU-4 on the CodeXGLUE code-to-text Ruby test set."""


def headline_shares(service: NarratorService, repo_id: int, commits: int) -> dict:
    """Whose words head the latest ``commits`` changes, and whose words stand under them."""
    changes = service.changes(repo_id)[:commits]
    heads = Counter(c.headline.source for c in changes)
    under = Counter(c.explanation.source if c.explanation else "none" for c in changes)
    total = len(changes)
    return {
        "commits": total,
        "headline_sources": dict(heads),
        "people_share": sum(heads[s] for s in PEOPLE) / total if total else None,
        "model_share": heads["model"] / total if total else None,
        "explanation_sources": dict(under),
    }


def conventional_accuracy(settings: Settings, source: str, history: int) -> dict:
    """``metrics.category_accuracy`` over the latest ``history`` commits read from git."""
    repo = open_repository(source, settings.clone_dir)
    rows = []
    for commit in recent_commits(repo, limit=history):
        body = commit.message.split("\n", 1)[1] if "\n" in commit.message else ""
        rows.append(PrefixedCommit(commit.subject, body, [f.path for f in commit.files], commit.author, commit.email,
                            any(any(ch.isdigit() for ch in t) for t in commit.tags), facts.version_change(commit.patch)))
    return category_accuracy(rows)


def bleu(settings: Settings, files: list[Path], limit: int) -> dict:
    """Smoothed BLEU-4 of unit summaries, base model vs the configured adapter, on the same rows."""
    from narrator.backends import make_backend

    rows = [row for path in files for row in read_summary_rows(path, limit=limit)]
    if not rows:
        raise NarratorError("No usable CodeSearchNet-format rows in " + ", ".join(map(str, files)))
    results = {}
    for name, chosen in (("base", replace(settings, adapter=None)), ("adapter", settings)):
        if name == "adapter" and not settings.adapter:
            break
        begin = time.perf_counter()
        results[name] = {**summary_bleu(make_backend(chosen), rows), "seconds": round(time.perf_counter() - begin, 1)}
    return {"rows": len(rows), "files": [str(p) for p in files], "adapter_path": settings.adapter, **results,
            "published_anchors_ruby": ANCHORS}


def evaluate(settings: Settings, source: str, commits: int, history: int, csn: list[Path], limit: int) -> dict:
    service = NarratorService(settings)
    repo = service.add_repository(source)
    begin = time.perf_counter()
    report = narrate_repository(settings, service.store, repo.id, Budget(commits=commits))
    result = {
        "repository": source,
        "model": service.model,
        "adapter": service.adapter,
        "narration": {"seconds": round(time.perf_counter() - begin, 1), "model_calls": report.model_calls,
                      "new": report.narrated, "cached": report.cached},
        "headlines": headline_shares(service, repo.id, commits),
        "checks": service.check_outcomes(repo.id),
        "categories": conventional_accuracy(settings, source, history),
    }
    if csn:
        result["bleu"] = bleu(settings, csn, limit)
    return result


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def table(result: dict) -> str:
    """The figures as Markdown tables."""
    heads = result["headlines"]
    lines = [f"## {result['repository']} ({result['model']}, adapter {result['adapter'] or 'none'})", "",
             "| Commit headlines | |", "|---|---|",
             f"| changes | {heads['commits']} |",
             f"| people's words (developer / pull request) | {_pct(heads['people_share'])} |",
             f"| model text | {_pct(heads['model_share'])} |"]
    lines += [f"| headline source: {k} | {v} |" for k, v in sorted(heads["headline_sources"].items())]
    lines += [f"| sentence under it: {k} | {v} |" for k, v in sorted(heads["explanation_sources"].items())]
    lines += ["", "| Model answers | asked | kept | edited | dropped |", "|---|---|---|---|---|"]
    for kind, outcome in result["checks"].items():
        dropped = ", ".join(f"{k} {v}" for k, v in sorted(outcome["dropped"].items())) or "0"
        lines.append(f"| {kind} | {outcome['answers']} | {outcome['kept']} | {outcome['edited']} | {dropped} |")
    cats = result["categories"]
    lines += ["", f"Category accuracy against conventional-commit prefixes: {_pct(cats['accuracy'])} "
                  f"({cats['correct']} of {cats['commits']} commits with a prefix)"]
    if "bleu" in result:
        b = result["bleu"]
        lines += ["", f"Smoothed BLEU-4 of unit summaries ({b['rows']} rows):"]
        for name in ("base", "adapter"):
            if name in b:
                lines.append(f"- {name}: {b[name]['bleu']:.2f} (empty after the check: {b[name]['empty']})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m narrator.evaluate", description=__doc__.split("\n\n")[0])
    p.add_argument("repo", help="a local folder or a clone URL")
    p.add_argument("--commits", type=int, default=Budget.commits, help="latest commits to judge (default: the narration budget)")
    p.add_argument("--history", type=int, default=1000, help="commits read for the category accuracy (default 1000)")
    p.add_argument("--csn", type=Path, action="append", default=[], help="CodeSearchNet-format JSON lines for BLEU (repeatable)")
    p.add_argument("--limit", type=int, default=60, help="rows per --csn file, stratified by language (default 60)")
    p.add_argument("--db", help="SQLAlchemy URL of the cache")
    p.add_argument("--model", help="embedded (default), a Hugging Face id or folder, openai:URL, or fake")
    p.add_argument("--adapter", help="the adapter to judge ('none' for the bare model)")
    p.add_argument("--json", action="store_true", help="print only JSON")
    args = p.parse_args(argv)

    def run() -> int:
        if args.commits < 1 or args.history < 1 or args.limit < 1:
            raise NarratorError("--commits, --history and --limit must be positive")
        for path in args.csn:
            if not path.is_file():
                raise NarratorError(f"No such file: {path}")
        settings = load_settings(db_url=args.db, model=args.model, adapter=args.adapter)
        result = evaluate(settings, args.repo, args.commits, args.history, args.csn, args.limit)
        print(json.dumps(result, indent=2))
        if not args.json:
            print("\n" + table(result))
        return 0

    return run_command(run, "interrupted: finished narratives are kept")


if __name__ == "__main__":
    sys.exit(main())
