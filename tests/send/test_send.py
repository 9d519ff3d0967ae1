"""``send``: the portfolio briefing by e-mail to a real SMTP server and by chat webhook to a real HTTP
server; each period once per subscriber, failures retried and recorded, one failure stopping nothing."""

from __future__ import annotations

import dataclasses
import itertools
import re
from datetime import datetime, time, timedelta, timezone

import git
import pytest

from narrator.__main__ import main
from narrator.pipeline import jobs
from narrator.pipeline.narrate import run_job
from narrator.send.config import SendConfig
from narrator.send.messages import subject
from narrator.send.run import send_briefings, send_period
from narrator.service.core import NarratorService
from tests.conftest import TODAY, commit_files
from tests.helpers.dashboard import no_worker
from tests.helpers.receivers import free_port, smtp_server, webhook_server

pytestmark = pytest.mark.slow  # real SMTP and HTTP servers

EVIL = 'Stop <script>alert("x")</script> & [click](https://evil.example) in the cart'
SHOP = "shop <b>&"
"""A folder name is untrusted text too."""
DASHBOARD = "https://narrator.example.com"


def _day(days_ago: int) -> datetime:
    return datetime.combine(TODAY - timedelta(days=days_ago), time(10), timezone.utc)


@pytest.fixture
def portfolio(tmp_path, settings, monkeypatch):
    """Two narrated repositories with changes this week, one with a hostile commit subject."""
    monkeypatch.setattr(jobs, "spawn_worker", no_worker)
    service = NarratorService(settings)
    ids = {}
    for name, subject in ((SHOP, EVIL), ("api", "Add the orders endpoint")):
        repo = git.Repo.init(tmp_path / name)
        commit_files(repo, {"src/app.py": "def app():\n    return 1\n"}, "Add the app", _day(20))
        commit_files(repo, {"src/app.py": "def app():\n    return 2\n"}, subject, _day(2))
        added = service.add_repository(repo.working_tree_dir)
        run_job(settings, service.start_narration(added.id, commits=3).id)
        ids[name.split()[0]] = added.id
    return service, ids


def _send(service, config, period="7d"):
    return list(send_briefings(service, config, send_period(service, period), sleep=lambda seconds: None))


def _config(port: int, **more) -> SendConfig:
    return SendConfig(smtp_url=f"smtp://127.0.0.1:{port}", smtp_tls="none", mail_from="narrator@example.com",
                      dashboard_url=DASHBOARD, backoff_s=0, **more)


def test_an_email_briefing_has_both_parts_inline_charts_escaped_text_and_dashboard_links(portfolio):
    service, ids = portfolio
    service.subscribe("email", "ada@example.com")
    with smtp_server() as inbox:
        outcomes = _send(service, _config(inbox.port))
        inbox.wait(1)
    assert [o.status for o in outcomes] == ["sent"]
    (recipients, message), = inbox.messages
    assert recipients == ["ada@example.com"] and message["To"] == "ada@example.com"
    period = send_period(service, "7d")
    assert message["Subject"].strip() == f"2 changes in all 2 repositories, no risk (Code Narrator, {period.label.split('(')[1]}"
    assert message.get_content_type() == "multipart/alternative"
    text_part, related = message.get_payload()
    assert text_part.get_content_type() == "text/plain" and related.get_content_type() == "multipart/related"
    html_part, *images = related.get_payload()
    assert html_part.get_content_type() == "text/html"
    assert len(images) == 4 and all(i.get_content_type() == "image/png" for i in images)  # two charts per repository
    html = html_part.get_content()
    for image in images:
        assert image.get_payload(decode=True).startswith(b"\x89PNG")
        assert f'src="cid:{image["Content-ID"].strip("<>")}"' in html
    # The hostile subject is text in both parts: no tag, no entity, no link made of it.
    assert "<script>" not in html and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; click in the cart" in html
    assert "evil.example" not in html and "&lt;b&gt;" in html  # the link became its text; the folder's tag is text
    text = text_part.get_content()
    assert "Stop \\<script\\>alert" in text and "<script>" not in text and "shop \\<b\\>&" in text
    # Every link points into the dashboard: the portfolio, each repository, its changes of the period.
    links = re.findall(r'href="([^"]+)"', html)
    assert links and all(link.startswith(DASHBOARD + "/") for link in links)
    assert f"{DASHBOARD}/overview?repo={ids['shop']}" in links
    assert f"{DASHBOARD}/changes?repo={ids['api']}&amp;since={period.first_day}&amp;until={period.last_day}" in html
    assert f"({DASHBOARD}/overview?repo={ids['shop']})" in text.replace("<", "").replace(">", "")


def test_chat_webhooks_get_their_own_formats_with_escaped_text_and_dashboard_links(portfolio):
    service, ids = portfolio
    with webhook_server() as hooks:
        for channel in ("slack", "teams", "mattermost"):
            service.subscribe(channel, f"{hooks.url}/{channel}/T0KEN", [ids["shop"]])
        outcomes = _send(service, _config(free_port()))
        assert [o.status for o in outcomes] == ["sent"] * 3
        assert all(kind == "application/json" for _, kind, _ in hooks.posts)
        (slack,), (teams,), (mattermost,) = (hooks.bodies(f"/{c}/T0KEN") for c in ("slack", "teams", "mattermost"))
    overview = f"{DASHBOARD}/overview?repo={ids['shop']}"
    # Slack: mrkdwn with &, < and > escaped, so no name or subject makes a tag, link or mention.
    said = "\n".join(block["text"]["text"] for block in slack["blocks"][1:])
    assert f"*<{overview}|shop &lt;b&gt;&amp;>*" in said and slack["blocks"][0]["type"] == "header"
    assert "Stop &lt;script&gt;alert(\"x\")&lt;/script&gt; &amp; click in the cart" in said and "<script>" not in said
    assert said.endswith(f"<{DASHBOARD}/|Open the portfolio on the dashboard>")
    # Teams: an Adaptive Card whose text is escaped Markdown, with a button to the portfolio.
    card = teams["attachments"][0]["content"]
    assert teams["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    cards = "\n".join(block["text"] for block in card["body"])
    assert f"**[shop \\<b\\>&]({overview})**" in cards and "Stop \\<script\\>" in cards
    assert card["actions"][0]["url"] == f"{DASHBOARD}/"
    # Mattermost: Markdown text, escaped the same way.
    assert f"**[shop \\<b\\>&]({overview})**" in mattermost["text"] and "Stop \\<script\\>" in mattermost["text"]
    links = re.findall(r"\]\((\S+?)\)", mattermost["text"]) + re.findall(r"<(http[^|>]+)\|", said)
    assert len(links) == 4 and all(link.startswith(DASHBOARD + "/") for link in links)


def test_a_period_is_sent_once_and_a_later_run_sends_nothing_again(portfolio):
    service, _ = portfolio
    service.subscribe("email", "ada@example.com")
    with smtp_server() as inbox:
        config = _config(inbox.port)
        assert [o.status for o in _send(service, config)] == ["sent"]
        assert [o.status for o in _send(service, config)] == ["already sent"]
        inbox.wait(1)
        assert [o.status for o in _send(service, config, "30d")] == ["sent"]  # another period is another briefing
        inbox.wait(2)
    assert len(inbox.messages) == 2
    deliveries = service.store.list_deliveries()
    assert len(deliveries) == 2 and {d.status for d in deliveries} == {"sent"}


def test_one_bad_subscriber_does_not_stop_the_others(portfolio, monkeypatch, capsys):
    service, _ = portfolio
    with smtp_server() as inbox, webhook_server() as hooks:
        inbox.refuse.add("nobody@example.com")
        hooks.answers["/slack/SECRET"] = [404]
        service.subscribe("email", "nobody@example.com")
        service.subscribe("slack", f"{hooks.url}/slack/SECRET")
        service.subscribe("email", "ada@example.com")
        service.subscribe("mattermost", f"{hooks.url}/mattermost/x")
        for name, value in (("CODE_NARRATOR_SMTP_URL", f"smtp://127.0.0.1:{inbox.port}"), ("CODE_NARRATOR_SMTP_TLS", "none"),
                            ("CODE_NARRATOR_SEND_BACKOFF", "0")):
            monkeypatch.setenv(name, value)
        assert main(["send", "--period", "7d"]) == 1
        inbox.wait(1)
    out, err = capsys.readouterr()
    assert [r for r, _ in inbox.messages] == [["ada@example.com"]] and len(hooks.bodies("/mattermost/x")) == 1
    assert "sent: #3 email ada@example.com" in out and "sent: #4 mattermost" in out
    assert "failed: #1 email nobody@example.com after 1 attempt: the mail server refused the address (SMTP 550)" in err
    assert "failed: #2 slack http://127.0.0.1:" in err and "answered HTTP 404" in err
    assert err.strip().splitlines()[-1].startswith("error: Briefings for ") and "2 sent, 2 failed" in err
    assert "SECRET" not in out + err  # a webhook's token is never printed nor recorded
    errors = {d.subscription_id: d.error for d in service.store.list_deliveries()}
    assert errors[1].startswith("the mail server refused") and "SECRET" not in errors[2] and errors[3] is None


def test_a_refused_connection_is_recorded_then_delivered_exactly_once_by_the_next_run(portfolio):
    service, _ = portfolio
    service.subscribe("email", "ada@example.com")
    port = free_port()
    config = _config(port, attempts=3)
    failed, = _send(service, config)  # nothing listens on the port yet
    assert failed.status == "failed" and failed.attempts == 3 and "Connection refused" in failed.error
    delivery, = service.store.list_deliveries()
    assert delivery.status == "failed" and delivery.attempts == 3 and "\n" not in delivery.error
    with smtp_server(port) as inbox:
        assert [o.status for o in _send(service, config)] == ["sent"]
        assert [o.status for o in _send(service, config)] == ["already sent"]
        inbox.wait(1)
    assert len(inbox.messages) == 1
    delivery, = service.store.list_deliveries()
    assert delivery.status == "sent" and delivery.attempts == 4 and delivery.sent_at is not None


def test_a_webhook_that_fails_for_a_moment_is_tried_again_within_the_run(portfolio):
    service, _ = portfolio
    with webhook_server() as hooks:
        hooks.answers["/mattermost/x"] = [503, 429]
        service.subscribe("mattermost", f"{hooks.url}/mattermost/x")
        sent, = _send(service, _config(free_port()))
        assert sent.status == "sent" and sent.attempts == 3 and len(hooks.bodies("/mattermost/x")) == 3


def test_a_refused_login_is_tried_once_per_run_and_every_e_mail_waits_for_the_next(portfolio):
    """535 from the mail server: the first e-mail fails saying what to check, the others fail with the
    same line without logging in again (many failed logins can lock the account), a chat is still sent,
    and once the password is right the next run sends every e-mail."""
    service, _ = portfolio
    with smtp_server(password="right") as inbox, webhook_server() as hooks:
        for address in ("ada@example.com", "bob@example.com", "cy@example.com"):
            service.subscribe("email", address)
        service.subscribe("mattermost", f"{hooks.url}/mattermost/x")
        wrong = SendConfig(smtp_url=f"smtp://narrator:wrong@127.0.0.1:{inbox.port}", smtp_tls="none",
                           mail_from="narrator@example.com", backoff_s=0)
        outcomes = _send(service, wrong)
        assert [o.status for o in outcomes] == ["failed", "failed", "failed", "sent"]
        assert inbox.logins == ["narrator"], "one login refused, not one per subscriber"
        assert "refused the login (SMTP 535): check the user and password of CODE_NARRATOR_SMTP_URL" in outcomes[0].error
        assert all(o.error == f"not tried: {outcomes[0].error}" for o in outcomes[1:3])
        assert "wrong" not in " ".join(o.error for o in outcomes[:3])
        right = SendConfig(smtp_url=f"smtp://narrator:right@127.0.0.1:{inbox.port}", smtp_tls="none",
                           mail_from="narrator@example.com", backoff_s=0)
        assert [o.status for o in _send(service, right)] == ["sent", "sent", "sent", "already sent"]
        inbox.wait(3)


def test_an_email_lists_the_first_changes_and_counts_the_rest(portfolio, tmp_path):
    """A busy repository's long lists (every change of the period) are cut in the e-mail, the rest counted."""
    service, ids = portfolio
    repo = git.Repo(service.repository(ids["api"]).source)
    for i in range(8):
        commit_files(repo, {f"src/step{i}.py": f"STEP = {i}\n"}, f"Add step number {i}", _day(1))
    run_job(service.settings, service.start_narration(ids["api"], commits=12).id)
    service.subscribe("email", "ada@example.com", [ids["api"]])
    with smtp_server() as inbox:
        assert [o.status for o in _send(service, _config(inbox.port))] == ["sent"]
        inbox.wait(1)
    message = inbox.messages[0][1]
    text, html = (message.get_body((kind,)).get_content() for kind in ("plain", "html"))
    assert "Add step number 7" in text and "Add step number 1" not in text, "the first changes of each list only"
    counted = re.findall(r"And (\d+) more, listed on the dashboard\.", text)
    assert counted and counted == re.findall(r"And (\d+) more, listed on the dashboard\.", html)
    assert all(int(n) >= 1 for n in counted)


def _table(text: str) -> dict[str, dict[str, str]]:
    """The e-mail's comparison table (its Markdown), by repository name: column title -> cell."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    first = itertools.takewhile(lambda line: line.startswith("|"), lines[start:])  # the comparison
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in first if "---" not in line]
    head, *body = rows
    return {row[0]: dict(zip(head, row)) for row in body}


def test_a_subject_says_what_matters_first_with_the_figures_of_the_mail(portfolio, tmp_path):
    """A security fix waiting to ship and a repository without change are named in the subject, with the
    same numbers as the e-mail's comparison table; a portfolio without change or risk is 'All quiet'."""
    service, ids = portfolio
    repo = git.Repo(service.repository(ids["api"]).source)
    repo.create_tag("v1.0.0", ref=repo.head.commit)
    commit_files(repo, {"src/app.py": "def app():\n    return 3\n"},
                 "Fix CVE-2026-4242: escape file names in uploads", _day(1))
    quiet = git.Repo.init(tmp_path / "docs")
    commit_files(quiet, {"README.md": "# Docs\n"}, "Write the docs", _day(40))
    added = service.add_repository(quiet.working_tree_dir)
    run_job(service.settings, service.start_narration(added.id, commits=3).id)
    run_job(service.settings, service.start_narration(ids["api"], commits=5).id)
    service.subscribe("email", "ada@example.com")
    service.subscribe("email", "bob@example.com", [added.id])
    with smtp_server() as inbox:
        assert [o.status for o in _send(service, _config(inbox.port))] == ["sent", "sent"]
        inbox.wait(2)
    mails = {recipients[0]: message for recipients, message in inbox.messages}
    period = send_period(service, "7d")
    dates = period.label.split("(")[1].rstrip(")")
    whole = mails["ada@example.com"]
    text = whole.get_body(("plain",)).get_content()
    table = _table(text)
    assert set(table) == {"shop \\<b\\>&", "api", "docs"}
    risks = sum(int(row["Risks"].split(":")[0]) for row in table.values() if row["Risks"] != "none")
    security = sum(int(m) for row in table.values() for m in re.findall(r"(\d+) security fix", row["Waiting to ship"]))
    changes = sum(int(row["Changes"]) for row in table.values())
    assert security == 1 and changes == 3 and table["docs"]["Changes"] == "0"
    assert risks == 1, "the security fix waiting is the one risk"
    assert whole["Subject"].strip() == f"1 security fix waiting to ship, 3 changes, none in docs, 1 release (Code Narrator, {dates})"
    assert "\n" not in whole["Subject"] and len(whole["Subject"]) <= 110
    assert mails["bob@example.com"]["Subject"].strip() == f"All quiet: no change in docs (Code Narrator, {dates})"


def test_a_single_repository_email_names_no_folder_of_the_server(portfolio):
    """One repository's e-mail says it was made from the repository (its name), not the server's folder."""
    service, ids = portfolio
    folder = service.repository(ids["api"]).source
    service.subscribe("email", "ada@example.com", [ids["api"]])
    with smtp_server() as inbox:
        assert [o.status for o in _send(service, _config(inbox.port))] == ["sent"]
        inbox.wait(1)
    message = inbox.messages[0][1]
    for kind in ("plain", "html"):
        body = message.get_body((kind,)).get_content()
        assert folder not in body and "Report made" in body and " from api" in body


def test_an_all_quiet_portfolio_says_so_and_a_long_subject_keeps_what_matters(settings, tmp_path, monkeypatch):
    monkeypatch.setattr(jobs, "spawn_worker", no_worker)
    service = NarratorService(settings)
    ids = []
    for name in ("docs", "notes"):
        repo = git.Repo.init(tmp_path / name)
        commit_files(repo, {"README.md": "# Docs\n"}, "Write the docs", _day(40))
        ids.append(service.add_repository(repo.working_tree_dir).id)
        run_job(settings, service.start_narration(ids[-1], commits=3).id)
    period = send_period(service, "7d")
    briefs = [service.briefing(i, period) for i in ids]
    assert subject(briefs, period) == f"All quiet: no change in 2 repositories (Code Narrator, {period.label.split('(')[1]}"
    # An untrusted name cannot add a header line, and a long one is cut: the subject stays one short line.
    hostile = dataclasses.replace(briefs[1], name="x" * 80 + "\r\nBcc: eve@evil.example")
    one = subject([hostile], period)
    assert one.startswith("All quiet: no change in xxxx") and "x..." in one and "Bcc" not in one
    assert "\n" not in one and "\r" not in one and len(one) <= 110


def test_a_run_builds_each_repositorys_briefing_once_whatever_sets_and_channels_it_goes_in(portfolio, monkeypatch):
    service, ids = portfolio
    built = []
    briefing = service.briefing
    monkeypatch.setattr(service, "briefing", lambda repo_id, *rest, **more: built.append(repo_id) or
                        briefing(repo_id, *rest, **more))
    with smtp_server() as smtp, webhook_server() as hooks:
        service.subscribe("email", "ada@example.com", None)
        service.subscribe("slack", f"{hooks.url}/slack/T0KEN", None)
        service.subscribe("email", "bob@example.com", [ids["shop"]])
        outcomes = _send(service, _config(smtp.port))
    assert [o.status for o in outcomes] == ["sent"] * 3
    assert sorted(built) == sorted(ids.values())
