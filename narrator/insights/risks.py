"""What could hurt, from git alone: changes that may affect users or security fixes waiting to ship, a
quiet repository, hotfixes, one key person, large changes without tests (``narrator.insights.status``
explains each threshold).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from narrator.facts import categories as facts
from narrator.facts import impact
from narrator.facts.commit_facts import CommitFacts
from narrator.facts.paths import is_release_notes_path, is_test_path
from narrator.insights.activity import QUIET_TIMES, Activity, Fact, days_phrase, every
from narrator.insights.delivery import ReleaseStatus, hotfixes
from narrator.insights.digest import changes_in, counted
from narrator.insights.history import ReleasePoint
from narrator.insights.periods import Period

KEY_PERSON_SHARE, KEY_PERSON_MIN_CHANGES = 0.6, 5
"""Key-person risk: one person made at least 60% of at least 5 changes in the period."""
LARGE_LINES = 500
"""Lines added plus removed in shipped code that make a change large."""


@dataclass(frozen=True)
class Risk:
    """Something that could hurt, with the commits that show it."""

    kind: str
    """'breaking', 'security', 'hotfix', 'quiet', 'key person' or 'untested'."""
    text: str
    shas: tuple[str, ...]


def impact_of(commit: Fact) -> impact.Impact:
    """The change's impact group (``narrator.facts.impact``): recorded with the commit, else read again."""
    stored = CommitFacts.from_json(commit.details)
    return impact.stored(stored.impact, subject=commit.subject, message=commit.message,
                         category=commit.category or "maintenance", paths=[f.get("path", "") for f in commit.files or []],
                         advisories=stored.advisories, is_merge=commit.is_merge, ci=stored.ci, version=stored.version)


def is_shipped_code(path: str) -> bool:
    """Code that reaches users (``narrator.facts.impact.is_shipped_path``), not its release notes."""
    return impact.is_shipped_path(path) and not is_release_notes_path(path)


def untested_lines(commit: Fact) -> int:
    """Lines of shipped code a change added and removed, 0 when it also changed a test file."""
    files = commit.files or []
    if any(is_test_path(f.get("path", "")) for f in files):
        return 0
    return sum(int(f.get("added") or 0) + int(f.get("removed") or 0) for f in files if is_shipped_code(f.get("path", "")))


def risks(commits: Sequence[Fact], release: ReleaseStatus, activity_now: Activity, period: Period | None,
          releases: Sequence[ReleasePoint]) -> list[Risk]:
    """Each risk git alone can show (module docstring), with its evidence; the period's ones need ``period``."""
    found = []
    by_sha = {c.sha: c for c in commits}
    if release.last is not None:
        waiting = [by_sha[s] for s in release.waiting if s in by_sha]
        groups = [(c.sha, impact_of(c).group) for c in waiting]
        breaking = [sha for sha, group in groups if group == "affects"]
        if breaking:
            found.append(Risk("breaking", f"{counted(len(breaking), 'change')} that may affect existing users "
                              f"{'is' if len(breaking) == 1 else 'are'} waiting to ship: "
                              "they may break what customers built on the software.", tuple(breaking)))
        security = [sha for sha, group in groups if group == "security"]
        if security:
            found.append(Risk("security", f"{counted(len(security), 'security fix', 'security fixes')} "
                              f"{'is' if len(security) == 1 else 'are'} waiting to ship: users are exposed until "
                              "the next release.", tuple(security)))
    if activity_now.state == "quiet" and activity_now.usual_gap is not None:
        found.append(Risk("quiet", f"No change for {activity_now.days_since} days, more than {QUIET_TIMES} times "
                          f"the usual gap ({every(activity_now.usual_gap)}).", activity_now.shas))
    if period is None:
        return found
    for before, after in hotfixes(r for r in releases if period.contains(r.date)):
        found.append(Risk("hotfix", f"{after.version} came {days_phrase((after.date - before.date).total_seconds() / 86400)} "
                          f"after {before.version}: a quick patch release suggests {before.version} shipped a problem.",
                          (before.sha, after.sha)))
    inside = changes_in(commits, period)
    people = [c for c in inside if not facts.is_bot(c.author, getattr(c, "email", "") or "")]
    if len(people) >= KEY_PERSON_MIN_CHANGES:
        names = Counter(" ".join(c.author.casefold().split()) for c in people)
        name, made = names.most_common(1)[0]
        if made >= KEY_PERSON_SHARE * len(people):
            theirs = [c for c in people if " ".join(c.author.casefold().split()) == name]
            found.append(Risk("key person", f"{theirs[0].author} made {made} of the {len(people)} changes in "
                              f"{period.name} ({made / len(people):.0%}): the work depends on one person.",
                              tuple(c.sha for c in theirs)))
    for c in sorted(inside, key=lambda c: c.date, reverse=True):
        lines = untested_lines(c)
        if lines >= LARGE_LINES:
            found.append(Risk("untested", f"A large change ({lines:,} lines of shipped code) changed no test: "
                              f"\u201c{c.subject.strip()[:120]}\u201d.", (c.sha,)))
    return found
