"""Subscriptions (``narrator.service.subscriptions``): addresses checked, webhook tokens never shown, and
the ``subscriptions`` command."""

from __future__ import annotations

import pytest

from narrator.__main__ import main
from narrator.service.core import NarratorService
from narrator.service.subscriptions import SubscriptionError, check_address, shown_address


@pytest.mark.parametrize("channel, address, words", [
    ("email", "ada@", "not an e-mail address"),
    ("email", "ada@example.com\r\nBcc: eve@example.com", "control characters"),
    ("email", "ada lovelace@example.com", "spaces"),
    ("slack", "http://hooks.slack.com/services/x", "plain http is only for this computer"),
    ("teams", "javascript:alert(1)", "use an https://"),
    ("mattermost", "https://alice:secret@chat.example.com/hooks/x", "user name or password"),
    ("mattermost", "https://chat.example.com:99999/hooks/x", "not a URL"),
    ("sms", "+4412345", "Unknown channel"),
])
def test_a_bad_address_is_refused_in_one_line(channel, address, words):
    with pytest.raises(SubscriptionError, match=words) as refused:
        check_address(channel, address)
    assert "\n" not in str(refused.value) and "secret" not in str(refused.value)


def test_good_addresses_pass_and_a_webhook_is_shown_without_its_token():
    assert check_address("email", " ada.lovelace+news@mail.example.co.uk ") == "ada.lovelace+news@mail.example.co.uk"
    assert check_address("slack", "https://hooks.slack.com/services/T0/B0/SECRET") == "https://hooks.slack.com/services/T0/B0/SECRET"
    assert check_address("mattermost", "http://localhost:8065/hooks/abc")  # plain http to this computer
    assert shown_address("slack", "https://hooks.slack.com/services/T0/B0/SECRET") == "https://hooks.slack.com/\u2026"


def test_the_subscriptions_command_adds_lists_pauses_and_removes(settings, sample_repo, capsys):
    service = NarratorService(settings)
    repo = service.add_repository(sample_repo.working_tree_dir)
    assert main(["subscriptions", "add", "--to", "ada@example.com"]) == 0
    assert main(["subscriptions", "add", "--channel", "slack", "--to", "https://hooks.slack.com/services/SECRET",
                 "--repo", sample_repo.working_tree_dir]) == 0
    assert main(["subscriptions", "pause", "2"]) == 0
    capsys.readouterr()
    assert main(["subscriptions", "list"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == ["#1 email ada@example.com: every repository (active)",
                                f"#2 slack https://hooks.slack.com/\u2026: {repo.name} (paused)"]
    assert main(["subscriptions", "remove", "1"]) == 0
    assert [view.id for view in service.subscriptions()] == [2]


def test_a_bad_subscription_or_period_is_one_error_line(settings, capsys):
    assert main(["subscriptions", "add", "--channel", "slack", "--to", "http://hooks.example.com/x"]) != 0
    assert main(["subscriptions", "remove", "7"]) != 0
    assert main(["send", "--period", "7d-commits"]) != 0
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == ["error: Refused slack webhook: plain http is only for this computer (localhost); use https://.",
                     "error: No subscription with id 7.",
                     "error: send covers the days up to today: use 7d, not 7d-commits."]
