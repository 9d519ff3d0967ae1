"""What a subscriber receives, built from the briefing the reports already print, never a second text.

An e-mail is the portfolio report of ``narrator.render.exports`` (one repository's report for one),
each list cut to its first ``EMAIL_LIST_ITEMS`` items: its Markdown as the plain-text part, its HTML
as the other part of a ``multipart/alternative``, with the charts as PNG parts of a ``multipart/related`` (``cid:`` images, which mail programs show; SVG and
``data:`` images they do not). A chat message is each repository's briefing opening (``Briefing.opening``)
in the incoming-webhook format of Slack, Microsoft Teams (an Adaptive Card) or Mattermost.

Every link points into the dashboard (``CODE_NARRATOR_DASHBOARD_URL``): the Portfolio page, a
repository's Overview (``?repo=ID``) and its changes of the period; without that address there are no
links. Text from repositories is untrusted: HTML and Markdown escape it as the reports do, Slack gets
its three control characters (``&``, ``<``, ``>``) escaped, so no text can make a link or a mention.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, replace
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from narrator.insights.briefing import Briefing
from narrator.insights.digest import counted
from narrator.insights.periods import Period, day_range
from narrator.insights.portfolio import figures
from narrator.render.document import Block, Bullets, Chart, Link, Paragraph, Report, Sentence
from narrator.render.exports import document
from narrator.render.png import png
from narrator.render.renderers import html_document, markdown
from narrator.service.core import NarratorService
from narrator.service.views import RepoView
from narrator.text import markdown_text, plain

TITLE = "Code Narrator"
"""How a subject and a chat message's title sign a briefing, after what matters."""
CHAT_HIGHLIGHTS = 3
"""Headlines of a repository's digest a chat message lists under its opening."""
EMAIL_LIST_ITEMS = 5
"""Items each list of an e-mailed briefing shows (changes waiting to ship, every change of the period...);
the rest are counted in a line pointing to the dashboard. A whole report of many repositories is too long
to read in a mail program, and some clip it (Gmail past 102 KB of HTML)."""
CHAT_REPOS = 20
"""Repositories a chat message tells of, the busiest of the period first; the rest are counted in one
line (a chat message stays short, and within Mattermost's 16,383 and Slack's 50 blocks)."""


def dashboard_links(base: str):
    """The links a report shows for the dashboard at ``base`` (none without one): the Portfolio page at
    the top; under each repository its Overview and its changes of the period."""
    def links(repo: RepoView | None, period: Period) -> Sequence[Block]:
        if not base:
            return ()
        if repo is None:
            return (Link("Open the portfolio on the dashboard", f"{base}/"),)
        return (Link(f"Open {repo.name} on the dashboard", overview_url(base, repo.id)),
                Link(f"Every change of {repo.name} in the period", changes_url(base, repo.id, period)))
    return links


def overview_url(base: str, repo_id: int) -> str:
    return f"{base}/overview?{urllib.parse.urlencode({'repo': repo_id})}"


def changes_url(base: str, repo_id: int, period: Period) -> str:
    query = {"repo": repo_id, "since": period.first_day.isoformat(), "until": period.last_day.isoformat()}
    return f"{base}/changes?{urllib.parse.urlencode(query)}"


@dataclass(frozen=True)
class Mail:
    """A briefing rendered once for every subscriber of the same repositories."""

    subject: str
    text: str
    html: str
    images: tuple[tuple[str, bytes], ...]
    """(Content-ID without brackets, PNG bytes), in the order the HTML shows them."""


SUBJECT_LENGTH = 110
"""Characters a subject keeps at most: its least important parts are left out first (mail programs cut
a long one in the inbox's list)."""
SUBJECT_NAMES = 30
"""Characters of a repository's name a subject shows at most (a folder name can be any length)."""


def subject(briefs: Sequence[Briefing], period: Period) -> str:
    """What matters first, from the briefings the message shows, on one plain line: '2 risks (1 security fix
    waiting to ship), 9 changes, none in docs, 1 release (Code Narrator, 30 Nov - 6 Dec 2026)'; '1 security
    fix waiting to ship, ...' when it is the only risk; 'All quiet: no change in 4 repositories (...)'; one
    repository's name leads: 'flask: ...'.

    Every number is one the message prints: the risks listed, the security fixes waiting to ship, the
    changes and releases of the period (``narrator.insights.portfolio.figures``). Past ``SUBJECT_LENGTH``
    characters the releases go first, then the names of repositories without change ('9 changes in 3 of 4
    repositories'), then all but the first part."""
    tail = f" ({TITLE}, {day_range(period.first_day, period.last_day)})"  # ASCII: Python folds a dash badly
    for parts in _news(briefs):
        line = " ".join(plain(", ".join(parts) + tail).split())
        if len(line) <= SUBJECT_LENGTH:
            break
    return line


def _short(name: str) -> str:
    name = " ".join(plain(name).split())
    return name if len(name) <= SUBJECT_NAMES else name[:SUBJECT_NAMES - 3] + "..."


def _news(briefs: Sequence[Briefing]) -> list[list[str]]:
    """The subject's parts, the most important first, then shorter forms of them (``subject``)."""
    found = [figures(brief) for brief in briefs]
    risks = sum(len(f.risks) for f in found)
    security = sum(f.waiting_security.n for f in found)
    changes = sum(f.changes.n for f in found)
    releases = sum(f.releases.n for f in found)
    changed = sum(1 for f in found if f.changes.n)
    single = len(briefs) == 1
    where = _short(briefs[0].name) if single else f"{len(briefs)} repositories"
    lead = f"{_short(briefs[0].name)}: " if single else ""
    if not changes and all(kind == "quiet" for f in found for kind in f.risks):  # work stopped: said by 'no change'
        return [[f"All quiet: no change in {where}"]]
    waiting = f"{counted(security, 'security fix', 'security fixes')} waiting to ship"
    alone = sum(kind == "security" for f in found for kind in f.risks) == risks  # no other risk to count
    risk = waiting if security and alone else counted(risks, "risk") + (f" ({waiting})" if security else "")
    moved = short = counted(changes, "change") + ("" if single else f" in all {len(briefs)} repositories")
    if not changes:
        moved = short = f"no change in {where}" if not single else "no change"
    elif changed < len(briefs):
        unchanged = ", ".join(_short(b.name) for b, f in zip(briefs, found) if not f.changes.n)
        moved, short = (f"{counted(changes, 'change')}, none in {unchanged}",
                        f"{counted(changes, 'change')} in {changed} of {len(briefs)} repositories")
    first, rest = (risk, []) if risks else (moved, ["no risk"])
    shown = [lead + first, *([moved] if risks else []), *rest]
    counted_only = [lead + first, *([short] if risks else []), *rest] if risks else [lead + short, *rest]
    released = [[*shown, counted(releases, "release")]] if releases else []
    return [*released, shown, counted_only, counted_only[:1]]


def briefings_of(service: NarratorService, repo_ids: Sequence[int], period: Period,
                 built: dict[int, Briefing] | None = None) -> dict[int, Briefing]:
    """The briefings of ``repo_ids`` over ``period``, taken from ``built`` (a run's briefings so far, filled in
    here) where there: a run builds each repository's briefing once, whoever it goes to and by what channel."""
    built = {} if built is None else built
    for repo_id in repo_ids:
        if repo_id not in built:
            built[repo_id] = service.briefing(repo_id, period)
    return {repo_id: built[repo_id] for repo_id in repo_ids}


def briefing_mail(service: NarratorService, repo_ids: Sequence[int], period: Period, dashboard: str,
                  built: dict[int, Briefing] | None = None) -> Mail:
    """The briefing of ``repo_ids`` over ``period`` as an e-mail's parts (``built``: see ``briefings_of``)."""
    briefs = briefings_of(service, repo_ids, period, built)
    report: Report = shortened(document(service, repo_ids, period, dashboard_links(dashboard), briefs, emailed=True),
                               bool(dashboard))
    images: list[tuple[str, bytes]] = []

    def inline(chart: Chart) -> str:
        cid = make_msgid(domain="code-narrator.invalid")[1:-1]
        images.append((cid, png(chart.draw("Helvetica"))))
        return f"cid:{cid}"

    html = html_document(report, image=inline)
    return Mail(subject(list(briefs.values()), period), markdown(report), html, tuple(images))


def shortened(report: Report, with_dashboard: bool) -> Report:
    """``report`` with each list cut to ``EMAIL_LIST_ITEMS`` items and a line counting the others."""
    blocks: list[Block] = []
    for block in report.blocks:
        if isinstance(block, Bullets) and len(block.items) > EMAIL_LIST_ITEMS:
            more = len(block.items) - EMAIL_LIST_ITEMS
            where = "on the dashboard" if with_dashboard else "in the full report"
            blocks += [Bullets(block.items[:EMAIL_LIST_ITEMS]),
                       Paragraph((Sentence(f"And {more} more, listed {where}."),), note=True)]
        else:
            blocks.append(block)
    return replace(report, blocks=tuple(blocks))


def email_message(mail: Mail, sender: str, recipient: str) -> EmailMessage:
    """``multipart/alternative``: the plain text, then the HTML with its charts (``multipart/related``)."""
    message = EmailMessage()
    message["Subject"] = mail.subject
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: out-of-office replies are not sent back
    message.set_content(mail.text, subtype="plain", charset="utf-8")
    message.add_alternative(mail.html, subtype="html", charset="utf-8")
    html_part = message.get_payload()[1]
    for cid, data in mail.images:
        html_part.add_related(data, maintype="image", subtype="png", cid=f"<{cid}>", disposition="inline",
                              filename=f"{cid.split('@')[0]}.png")
    return message


# --- chat -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChatRepo:
    name: str
    status: str
    opening: tuple[str, ...]
    """The briefing's opening sentences (``Briefing.opening``)."""
    highlights: tuple[str, ...]
    """The digest's first headlines that reach users (may affect them, security, new, fixed), at most
    ``CHAT_HIGHLIGHTS``."""
    url: str | None
    """Its Overview on the dashboard; None without a dashboard address."""
    changes: int = 0
    """Its changes in the period: the busiest repositories come first."""


@dataclass(frozen=True)
class ChatBriefing:
    title: str
    period: Period
    repos: tuple[ChatRepo, ...]
    url: str | None
    """The dashboard's Portfolio page; None without a dashboard address."""


def chat_briefing(service: NarratorService, repo_ids: Sequence[int], period: Period, dashboard: str,
                  built: dict[int, Briefing] | None = None) -> ChatBriefing:
    """Each repository's briefing opening over ``period``, for a chat message (``built``: see ``briefings_of``)."""
    repos, briefs = [], list(briefings_of(service, repo_ids, period, built).values())
    for repo_id, brief in zip(repo_ids, briefs, strict=True):
        repo = service.repository(repo_id)
        repos.append(ChatRepo(repo.name, brief.status.text, tuple(s.text for s in brief.opening),
                              _highlights(brief.digest),
                              overview_url(dashboard, repo_id) if dashboard else None, brief.changes.n))
    repos.sort(key=lambda repo: -repo.changes)  # stable: repositories as busy keep their order
    return ChatBriefing(subject(briefs, period), period, tuple(repos), f"{dashboard}/" if dashboard else None)


def _highlights(digest) -> tuple[str, ...]:
    if digest is None:
        return ()
    lines = [*digest.affects, *digest.security, *digest.features, *digest.fixes]
    return tuple(line.text for line in lines[:CHAT_HIGHLIGHTS])


def slack_text(text: str) -> str:
    """Untrusted text for Slack's mrkdwn: its control characters escaped, so no link, mention or channel
    reference can be made (``<!channel>``, ``<https://x|y>``)."""
    return plain(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _repo_lines(briefing: ChatBriefing, name, text) -> list[str]:
    """A paragraph per repository: its name (a link), its opening, its first changes by impact as a list;
    past ``CHAT_REPOS``, one line counting the others."""
    lines = ["\n".join([name(repo), text(" ".join(repo.opening) or repo.status),
                        *(f"\u2022 {text(line)}" for line in repo.highlights)]) for repo in briefing.repos[:CHAT_REPOS]]
    more = len(briefing.repos) - CHAT_REPOS
    if more > 0:
        where = "on the dashboard" if briefing.url else "in the e-mail briefing"
        lines.append(text(f"And {more} more repositor{'y' if more == 1 else 'ies'} with fewer changes in the "
                          f"period: see them {where}."))
    return lines


def slack(briefing: ChatBriefing) -> dict:
    """A Slack incoming-webhook message: a header, then one mrkdwn section per repository."""
    def name(repo: ChatRepo) -> str:
        label = slack_text(repo.name).replace("|", "\u00a6")  # a '|' would end a link's address
        return f"*<{repo.url}|{label}>*" if repo.url else f"*{label}*"

    blocks: list[dict] = [{"type": "header", "text": {"type": "plain_text", "text": plain(briefing.title)[:150]}}]
    blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": line[:3000]}}
               for line in _repo_lines(briefing, name, slack_text)[:45]]  # Slack takes 50 blocks a message
    if briefing.url:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"<{briefing.url}|Open the portfolio on the dashboard>"}})
    return {"text": slack_text(briefing.title), "blocks": blocks}


def _markdown_name(repo: ChatRepo) -> str:
    label = markdown_text(repo.name)
    return f"**[{label}]({repo.url})**" if repo.url else f"**{label}**"


def mattermost(briefing: ChatBriefing) -> dict:
    """A Mattermost incoming-webhook message: Markdown text, every untrusted string escaped."""
    lines = [f"#### {markdown_text(briefing.title)}", *_repo_lines(briefing, _markdown_name, markdown_text)]
    if briefing.url:
        lines.append(f"[Open the portfolio on the dashboard]({briefing.url})")
    return {"text": "\n\n".join(lines)}


def teams(briefing: ChatBriefing) -> dict:
    """A Microsoft Teams incoming-webhook (or Workflows) message: an Adaptive Card, Markdown escaped."""
    body: list[dict] = [{"type": "TextBlock", "text": markdown_text(briefing.title), "weight": "Bolder",
                         "size": "Medium", "wrap": True}]
    for line in _repo_lines(briefing, _markdown_name, markdown_text):
        body.append({"type": "TextBlock", "text": line, "wrap": True, "separator": True})
    card = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
            "version": "1.4", "body": body}
    if briefing.url:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open the portfolio on the dashboard", "url": briefing.url}]
    return {"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
                                                "contentUrl": None, "content": card}]}


CHAT_FORMATS = {"slack": slack, "teams": teams, "mattermost": mattermost}
"""Each chat channel's incoming-webhook payload: adding a chat is one function and one row here."""
