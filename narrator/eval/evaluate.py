"""``python -m narrator.eval.evaluate REPO``: how far a manager can trust what the narrator shows.

It narrates REPO with the default budget (cached work is reused), then prints JSON and a table of:

* the share of commit headlines that are people's words (any source but the model and git facts:
  the developer's subject or body, a pull request's title, a changelog line) versus model text or
  git facts, and where the sentence under each headline came from;
* plain words: the share of the sentences a manager reads (the latest ``--commits`` headlines and
  the plain reading under each, the digest's lines, the status line, and the briefing's opening where ``NarratorService.briefing``
  exists) whose every word is plain English, by ``page_sentences.uncommon_words``'s rule: common when it,
  or it without a plural, possessive, -ed or -ing ending, has Zipf >= 4 in ``wordfreq``'s English
  list (its data ships in the wheel); numbers, dates, versions, ids, the authors' names and the
  repository's name are fine, and so is every word of a term ``narrator.facts.glossary`` explains in that
  sentence. Also the share of those sentences carrying code or markup (``page_sentences.code_marks``:
  snake_case, camelCase, dotted.names, ``()``, backticks, ``{role}``, ``:role:``, file paths,
  ``#123``, links);
* the model sentences shown among those headlines (as configured: by default only the model tasks
  measured to beat what they replace; ``--model-text`` asks the model for every task, to judge a model) (as headline or as the sentence under one), and
  how many model answers each check kept, edited or dropped (faithfulness, contradicting the
  developer's subject, only repeating it, reading like a commit subject, and each of
  ``headlines.GIT_CHECKS``), every check listed even at 0;
* whether every count matches its linked changes over ``--period`` (``page_sentences.count_mismatches``):
  each line that states a count (the digest's impact groups, kinds of internal work and areas; the
  briefing's sentences and section titles) links to that many distinct changes, and the impact
  groups add up to the period's changes with none counted twice;
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

from db.errors import NarratorError
from narrator.checks.headlines import GIT_CHECKS
from narrator.entry import run_command
from narrator.eval.category_accuracy import PrefixedCommit, category_accuracy
from narrator.eval.metrics import read_summary_rows, summary_bleu
from narrator.eval.page_sentences import count_mismatches, fine_words, sentence_measures
from narrator.facts.provenance import Source
from narrator.facts.releases import version_change
from narrator.git.commits import recent_commits
from narrator.git.repo import open_repository
from narrator.insights.periods import PERIOD_NAMES
from narrator.pipeline.narrate import narrate_repository
from narrator.pipeline.tasks import Budget
from narrator.service.core import NarratorService
from narrator.settings import SHOWN_FIELDS, Settings, check_model, load_settings

NOT_PEOPLE = (Source.MODEL, Source.GIT)
"""Headline sources that are not people's words."""
MODEL_CHECKS = ("faithfulness", "contradicts the subject", "reads like a commit subject", *GIT_CHECKS,
                "adds nothing to the subject")
"""Every check a model sentence can be dropped by (``headlines.Verdict.dropped``), listed even at 0."""
PERIOD = "90d-commits"
"""The period whose digest and briefing are measured: the last 90 days with commits, so a quiet
repository still has lines to measure."""
ANCHORS = {"CodeBERT": 12.16, "CodeT5-small": 14.87, "CodeT5+ 220M": 15.51}
"""Published smoothed BLEU-4 on the CodeXGLUE code-to-text Ruby test set."""


def headline_shares(service: NarratorService, repo_id: int, commits: int) -> dict:
    """Whose words head the latest ``commits`` changes, and whose words stand under them."""
    changes = service.changes(repo_id, limit=commits)
    heads = Counter(c.headline.source for c in changes)
    under = Counter(c.explanation.source if c.explanation else "none" for c in changes)
    total = len(changes)
    return {
        "commits": total,
        "headline_sources": dict(heads),
        "people_share": sum(n for s, n in heads.items() if s not in NOT_PEOPLE) / total if total else None,
        "model_share": heads[Source.MODEL] / total if total else None,
        "explanation_sources": dict(under),
    }


def manager_sentences(service: NarratorService, repo_id: int, commits: int, period: str) -> list[tuple[str, str]]:
    """(kind, sentence) of what a manager reads: the latest ``commits`` headlines and their plain
    readings, the digest's lines over ``period``, the status line, and the briefing's opening where
    there is a briefing."""
    changes = service.changes(repo_id, limit=commits)
    found = [("headline", c.headline.text) for c in changes]
    # The line under every headline, "In plain words: …" (``narrator.facts.reading``), from facts.
    found += [("plain reading", c.reading) for c in changes if c.reading]
    digest = service.digest(repo_id, period)
    if digest is not None:
        lines = [*digest.summary, *digest.by_impact, *digest.affects, *digest.security, *digest.features,
                 *digest.fixes, *digest.internal, *digest.areas, digest.comparison]
        found += [("digest", line.text) for line in lines]
    found.append(("status line", service.status(repo_id, period).activity.text))
    briefing = _briefing(service, repo_id, period)
    if briefing is not None:
        found += [("opening", sentence.text) for sentence in briefing.opening]
    return found


def _briefing(service: NarratorService, repo_id: int, period: str):
    """The briefing (``narrator.insights.briefing``), or None where this version has none or no commits."""
    build = getattr(service, "briefing", None)
    if build is None or not service.changes(repo_id, limit=1):
        return None
    return build(repo_id, period)


def plain_words(service: NarratorService, repo_id: int, commits: int, period: str) -> dict:
    """``page_sentences.sentence_measures`` of ``manager_sentences``, the authors', the repository's and its
    folders' names fine (a plain reading names its folder in brackets after the words: "in the main
    code (lib)")."""
    choices = service.change_filters(repo_id)
    names = [*choices["authors"], service.repository(repo_id).name,
             *(part for folder in choices["folders"] for part in folder.split("/"))]
    return sentence_measures(manager_sentences(service, repo_id, commits, period), fine_words(names))


def model_sentences(service: NarratorService, repo_id: int, commits: int, checks: dict) -> dict:
    """Model sentences shown among the latest ``commits`` changes, and those each check dropped."""
    changes = service.changes(repo_id, limit=commits)
    dropped = dict.fromkeys(MODEL_CHECKS, 0)
    for kind in ("headline", "commit"):
        for reason, n in checks.get(kind, {}).get("dropped", {}).items():
            dropped[reason] = dropped.get(reason, 0) + n
    return {
        "shown": {"headline": sum(1 for c in changes if c.headline.by_model),
                  "under a headline": sum(1 for c in changes if c.explanation and c.explanation.by_model)},
        "dropped": dropped,
    }


def count_checks(service: NarratorService, repo_id: int, period: str) -> dict:
    """Whether every count over ``period`` matches its linked changes, in the digest and (where there
    is one) the briefing; ``mismatches`` says what does not."""
    digest = service.digest(repo_id, period)
    result: dict = {"period": digest.period.label if digest is not None else None}
    if digest is not None:
        lines = [(line.text, line.shas) for line in (*digest.by_impact, *digest.internal, *digest.areas)]
        groups = [(line.text, line.shas) for line in digest.by_impact]
        result["digest"] = {"lines": len(lines) + 1,
                            "mismatches": count_mismatches(lines, digest.counts["changes"], groups)}
        if sum(digest.impact_counts.values()) != digest.counts["changes"]:
            result["digest"]["mismatches"].append(f"the impact groups add up to {sum(digest.impact_counts.values())}, "
                                                  f"the period has {digest.counts['changes']} changes")
    briefing = _briefing(service, repo_id, period)
    if briefing is not None:
        sections = [s for s in (briefing.risks, briefing.waiting, briefing.reached, briefing.by_impact, briefing.delivery) if s]
        sentences = [*briefing.opening, *(line for s in sections for line in (*s.lines, *s.detail))]
        lines = [(s.text, s.counts[0].shas if s.counts else s.shas) for s in sentences]
        lines += [(f"{s.title}: {s.count.n} changes", s.count.shas) for s in sections if s.count is not None]
        impact = [(line.text, line.counts[0].shas if line.counts else line.shas) for line in briefing.by_impact.lines]
        mismatches = count_mismatches(lines, briefing.changes.n, impact)
        mismatches += [f"a count of {c.n} stands on {len(set(c.shas))} changes" for c in briefing.counts()
                       if c.n != len(set(c.shas))]
        result["briefing"] = {"lines": len(lines), "mismatches": mismatches}
    result["all_match"] = not any(part["mismatches"] for part in (result.get("digest"), result.get("briefing")) if part)
    return result


def conventional_accuracy(settings: Settings, source: str, history: int) -> dict:
    """``category_accuracy`` over the latest ``history`` commits read from git."""
    repo = open_repository(source, settings.clone_dir)
    rows = []
    for commit in recent_commits(repo, limit=history):
        body = commit.message.split("\n", 1)[1] if "\n" in commit.message else ""
        rows.append(PrefixedCommit(commit.subject, body, [f.path for f in commit.files], commit.author, commit.email,
                            any(any(ch.isdigit() for ch in t) for t in commit.tags), version_change(commit.patch)))
    return category_accuracy(rows)


def bleu(settings: Settings, files: list[Path], limit: int) -> dict:
    """Smoothed BLEU-4 of unit summaries, base model vs the configured adapter, on the same rows."""
    from narrator.model.backends import make_backend

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


def evaluate(settings: Settings, source: str, commits: int, history: int, csn: list[Path], limit: int,
             period: str = PERIOD) -> dict:
    from narrator.model.backends import make_backend

    make_backend(settings)  # a model that cannot load stops here, in one line, before any narration
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
    result["plain_words"] = plain_words(service, repo.id, commits, period)
    result["model_sentences"] = model_sentences(service, repo.id, commits, result["checks"])
    result["counts"] = count_checks(service, repo.id, period)
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
             f"| people's words (not the model, not git facts) | {_pct(heads['people_share'])} |",
             f"| model text | {_pct(heads['model_share'])} |"]
    lines += [f"| headline source: {k} | {v} |" for k, v in sorted(heads["headline_sources"].items())]
    lines += [f"| sentence under it: {k} | {v} |" for k, v in sorted(heads["explanation_sources"].items())]
    lines += ["", "| Model answers | asked | kept | edited | dropped |", "|---|---|---|---|---|"]
    for kind, outcome in result["checks"].items():
        dropped = ", ".join(f"{k} {v}" for k, v in sorted(outcome["dropped"].items())) or "0"
        lines.append(f"| {kind} | {outcome['answers']} | {outcome['kept']} | {outcome['edited']} | {dropped} |")
    words = result["plain_words"]
    lines += ["", "| Sentences a manager reads | sentences | plain English | with code or markup |", "|---|---|---|---|",
              f"| all | {words['sentences']} | {_pct(words['plain_share'])} | {_pct(words['code_share'])} |"]
    lines += [f"| {kind} | {t['sentences']} | {_pct(t['plain_share'])} | {_pct(t['code_share'])} |"
              for kind, t in words["by_kind"].items()]
    lines.append(f"- rule: {words['rule']}")
    lines += [f"- not plain: \u201c{e['text']}\u201d ({', '.join(e['words'])})" for e in words["not_plain_examples"]]
    lines += [f"- code: \u201c{e['text']}\u201d ({', '.join(e['marks'])})" for e in words["code_examples"]]
    shown = result["model_sentences"]["shown"]
    lines += ["", f"Model sentences shown: {shown['headline']} headlines, {shown['under a headline']} under a headline; "
                  "dropped: " + ", ".join(f"{k} {v}" for k, v in result["model_sentences"]["dropped"].items())]
    counts = result["counts"]
    verdict = "every count matches its linked changes" if counts["all_match"] else "MISMATCH: " + "; ".join(
        m for part in ("digest", "briefing") for m in counts.get(part, {}).get("mismatches", []))
    checked = " and ".join(part for part in ("digest", "briefing") if part in counts) or "nothing (no commits)"
    lines += ["", f"Counts over {counts['period']} ({checked}): {verdict}"]
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


def main(argv: list[str] | None = None, prog: str = "python -m narrator.eval.evaluate") -> int:
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    p.add_argument("repo", help="a local folder or a clone URL")
    p.add_argument("--commits", type=int, default=Budget.commits, help="latest commits to judge (default: the narration budget)")
    p.add_argument("--period", default=PERIOD, help=f"period of the digest and briefing measured (default {PERIOD})")
    p.add_argument("--history", type=int, default=1000, help="commits read for the category accuracy (default 1000)")
    p.add_argument("--csn", type=Path, action="append", default=[], help="CodeSearchNet-format JSON lines for BLEU (repeatable)")
    p.add_argument("--limit", type=int, default=60, help="rows per --csn file, stratified by language (default 60)")
    p.add_argument("--db", help="SQLAlchemy URL of the cache")
    p.add_argument("--model", help="embedded (default), any Hugging Face causal LM id or folder, "
                                   "openai:http://HOST:PORT/v1[#MODEL] (an OpenAI-compatible server), or fake")
    p.add_argument("--adapter", help="the adapter to judge ('none' for the bare model)")
    p.add_argument("--json", action="store_true", help="print only JSON")
    p.add_argument("--model-text", action="store_true",
                   help="ask the model for every task it can do (CODE_NARRATOR_MODEL_*=on), to judge a model "
                        "rather than what the settings show (default: as configured)")
    args = p.parse_args(argv)

    def run() -> int:
        if args.commits < 1 or args.history < 1 or args.limit < 1:
            raise NarratorError("--commits, --history and --limit must be positive")
        for path in args.csn:
            if not path.is_file():
                raise NarratorError(f"No such file: {path}")
        if args.model is not None:
            check_model(args.model)  # an empty spec names no model; it does not mean the default
        shown = {field: "on" for field in SHOWN_FIELDS.values()} if args.model_text else {}
        settings = load_settings(db_url=args.db, model=args.model, adapter=args.adapter, **shown)
        if args.period not in PERIOD_NAMES:
            raise NarratorError(f"--period must be one of {', '.join(PERIOD_NAMES)}")
        result = evaluate(settings, args.repo, args.commits, args.history, args.csn, args.limit, args.period)
        print(json.dumps(result, indent=2))
        if not args.json:
            print("\n" + table(result))
        return 0

    return run_command(run, "interrupted: finished narratives are kept")


if __name__ == "__main__":
    sys.exit(main())
