"""A chat message about many repositories stays short: the busiest first, the rest counted in one line."""

from __future__ import annotations

from datetime import date

from narrator.insights.periods import choose_period
from narrator.send.messages import CHAT_FORMATS, CHAT_REPOS, ChatBriefing, ChatRepo

DASHBOARD = "https://narrator.example.com"


def _portfolio(count: int) -> ChatBriefing:
    """``count`` repositories; every tenth had changes in the period, the others were quiet."""
    repos = tuple(ChatRepo(f"repo{i:03}", "Quiet", (f"Work has stopped on repo{i:03}: the last change was "
                                                   "19 Aug 2026, 3 months ago. " * 3,),
                           ("A change that may affect users",) * 3, f"{DASHBOARD}/overview?repo={i}",
                           changes=5 if i % 10 == 0 else 0)
                  for i in range(count))
    period = choose_period([], "30d", on=date(2026, 12, 6))
    return ChatBriefing("Code Narrator briefing", period, tuple(sorted(repos, key=lambda r: -r.changes)), f"{DASHBOARD}/")


def test_a_chat_message_of_300_repositories_names_the_busiest_and_counts_the_rest():
    briefing = _portfolio(300)
    slack = CHAT_FORMATS["slack"](briefing)
    said = [block["text"]["text"] for block in slack["blocks"][1:]]
    assert len(slack["blocks"]) <= 50
    assert said[0].startswith(f"*<{DASHBOARD}/overview?repo=0|repo000>*"), "the busiest come first"
    assert sum("<https://narrator.example.com/overview" in line for line in said) == CHAT_REPOS
    assert said[-2] == (f"And {300 - CHAT_REPOS} more repositories with fewer changes in the period: "
                        "see them on the dashboard.")
    mattermost = CHAT_FORMATS["mattermost"](briefing)["text"]
    assert len(mattermost) < 16_383 and f"And {300 - CHAT_REPOS} more repositories" in mattermost
    card = CHAT_FORMATS["teams"](briefing)["attachments"][0]["content"]
    assert len(card["body"]) == 1 + CHAT_REPOS + 1


def test_a_chat_message_of_few_repositories_names_them_all():
    said = "\n".join(block["text"]["text"] for block in CHAT_FORMATS["slack"](_portfolio(3))["blocks"][1:])
    assert all(f"repo00{i}" in said for i in range(3)) and "more repositor" not in said
