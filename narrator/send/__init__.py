"""The briefing, delivered: ``send`` mails the portfolio briefing of each subscriber's repositories
(``narrator.service.subscriptions``) over SMTP, or posts it to a Slack, Microsoft Teams or Mattermost
incoming webhook; each period is sent once per subscriber, a failure is retried and recorded.

``config`` (the SMTP server, sender, dashboard address, retries), ``messages`` (the e-mail and the chat
payloads, built from the one report document of ``narrator.render.exports``), ``transport`` (SMTP and
HTTP, with their failures as one line), ``run`` (the ``send`` command's work).
"""
