"""The send settings (``narrator.send.config``): a setting that cannot work is one line before anything
is sent, and the SMTP password is never shown."""

from __future__ import annotations

import pytest

from narrator.send.config import SendError, load_send_config


def test_the_smtp_url_gives_the_server_and_keeps_the_password_out_of_sight():
    config = load_send_config({"CODE_NARRATOR_SMTP_URL": "smtp://robot%40example.com:p%40ss@mail.example.com:2525",
                               "CODE_NARRATOR_DASHBOARD_URL": "https://narrator.example.com/"})
    server = config.server()
    assert (server.host, server.port, server.tls, server.user, server.password) == \
        ("mail.example.com", 2525, "starttls", "robot@example.com", "p@ss")
    assert "p@ss" not in repr(config) + repr(server) + server.shown and config.dashboard_url == "https://narrator.example.com"
    assert load_send_config({"CODE_NARRATOR_SMTP_URL": "smtps://mail.example.com"}).server().port == 465
    assert config.sender == "code-narrator@mail.example.com"


@pytest.mark.parametrize("env, words", [
    ({"CODE_NARRATOR_SMTP_URL": "mail.example.com"}, "must look like smtp://"),
    ({"CODE_NARRATOR_SMTP_URL": "smtp://u:secret@mail.example.com", "CODE_NARRATOR_SMTP_TLS": "none"}, "unencrypted"),
    ({"CODE_NARRATOR_SMTP_TLS": "maybe"}, "use starttls, ssl or none"),
    ({"CODE_NARRATOR_MAIL_FROM": "robot"}, "not an e-mail address"),
    ({"CODE_NARRATOR_DASHBOARD_URL": "javascript:alert(1)"}, "not an http"),
    ({"CODE_NARRATOR_SEND_ATTEMPTS": "three"}, "must be a number"),
])
def test_a_setting_that_cannot_work_is_one_line(env, words):
    with pytest.raises(SendError, match=words) as refused:
        load_send_config(env)
    assert "secret" not in str(refused.value) and "\n" not in str(refused.value)


def test_no_smtp_server_is_said_when_an_email_is_to_be_sent():
    with pytest.raises(SendError, match="CODE_NARRATOR_SMTP_URL"):
        load_send_config({}).server()
