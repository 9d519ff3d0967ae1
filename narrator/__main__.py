"""Command line: ``python -m narrator narrate|show|report|send|subscriptions|remove|worker``. Parses arguments, calls the library."""

from __future__ import annotations

import argparse
import sys

from narrator.defaults import COMMITS, DIGEST_PERIOD, REPORT_PERIOD
from narrator.entry import run_command
from narrator.model.quiet import route_library_warnings
from narrator.settings import home_dir, load_settings


def _settings(args: argparse.Namespace):
    return load_settings(db_url=getattr(args, "db", None), model=getattr(args, "model", None),
                         adapter=getattr(args, "adapter", None))


def cmd_narrate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from narrator.pipeline import jobs
    from narrator.pipeline.narrate import run_job
    from narrator.render.show import summary_text
    from narrator.service.core import NarratorService
    from narrator.service.narration import narration_request

    settings = _settings(args)
    if args.all:
        return cmd_narrate_all(settings, args)
    service = NarratorService(settings)
    jobs.recover(service.store)  # a run killed earlier (kill -9) left its job 'running'
    repo = service.add_repository(args.repo)
    job_id = service.queue_narration(repo.id, narration_request(args.commits, args.full))
    bar = tqdm(total=0, unit="narrative", desc="Narrating", file=sys.stderr, dynamic_ncols=True)

    def progress(done: int, total: int, message: str) -> None:
        bar.total = max(total, done)
        bar.n = done
        bar.set_description_str(message[:60])
        bar.refresh()

    try:
        report = run_job(settings, job_id, progress=progress)
    finally:
        bar.close()
    print(summary_text(service, repo.id, report))
    return 0


def cmd_narrate_all(settings, args: argparse.Namespace) -> int:
    """Refresh every added repository: one line each on stdout (failures on stderr), exit 1 if any failed."""
    from narrator.service.refresh import refresh_all

    failed = refreshed = 0
    bar = progress = None
    if settings.queue:  # the workers narrate; this waits, with one bar over every job once all are sent
        from tqdm import tqdm

        def progress(done: int, total: int, message: str) -> None:
            nonlocal bar
            if bar is None:  # counted in parts of a repository (refresh.SHARE): only the percentage is shown
                bar = tqdm(total=0, desc=message[:60], file=sys.stderr, dynamic_ncols=True,
                           bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed} elapsed, {remaining} left")
            bar.total, bar.n = max(total, done), done
            bar.set_description_str(message[:60])
            bar.refresh()

    def notice(line: str) -> None:  # something happened to a job on the way (its worker died, the queue lost it)
        if bar is not None:
            bar.clear()
        print(line, file=sys.stderr, flush=True)

    try:
        for outcome in refresh_all(settings, commits=args.commits, full=args.full, progress=progress, notice=notice):
            refreshed += 1
            failed += outcome.error is not None
            out = sys.stderr if outcome.error else sys.stdout
            if bar is not None:
                bar.clear()
            print(outcome.line(), file=out, flush=True)
    finally:
        if bar is not None:
            bar.close()
    if not refreshed:
        # Said, so that a timer's log shows it ran: nothing to do is not an error.
        print("No repository has been added yet: add one with 'python -m narrator narrate REPO' "
              "or in the dashboard.")
    return 1 if failed else 0


def cmd_show(args: argparse.Namespace) -> int:
    from narrator.render import show as report
    from narrator.service.core import NarratorService

    service = NarratorService(_settings(args))
    repo = service.find(args.repo)
    render = report.markdown if args.format == "markdown" else report.text
    print(render(service, repo.id, commits=args.commits, period=args.period))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from narrator.render import exports as reports
    from narrator.render import renderers
    from narrator.service.core import NarratorService

    to_stdout = args.out == "-"
    # Before any work: a typo costs nothing. Standard output has no suffix to tell the format.
    fmt = renderers.check_format(args.format or ("md" if to_stdout else renderers.format_of(args.out)))
    if to_stdout and fmt == "pdf" and sys.stdout.isatty():
        raise renderers.ReportError("A PDF is not for a terminal: redirect it to a file (> report.pdf) or a program.")
    service = NarratorService(_settings(args))
    repo = service.find(args.repo)
    data = reports.build(service, [repo.id], args.period, fmt)
    if to_stdout:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return 0
    print(f"Wrote {renderers.write(data, args.out)}", file=sys.stderr)
    return 0


def cmd_send(args: argparse.Namespace) -> int:
    """Send the period's briefing to every active subscriber: a line each as it goes, a summary last;
    exit 1 when any failed (a later run for the same period tries those again, and only those)."""
    from narrator.send.config import load_send_config
    from narrator.send.run import send_briefings, send_period, summary
    from narrator.service.core import NarratorService

    config = load_send_config()
    service = NarratorService(_settings(args))
    chosen = send_period(service, args.period)
    outcomes = []
    for outcome in send_briefings(service, config, chosen):
        outcomes.append(outcome)
        print(outcome.line(), file=sys.stderr if outcome.status == "failed" else sys.stdout, flush=True)
    failed = any(o.status == "failed" for o in outcomes)
    print(("error: " if failed else "") + summary(outcomes, chosen), file=sys.stderr if failed else sys.stdout)
    return 1 if failed else 0


def cmd_subscriptions(args: argparse.Namespace) -> int:
    from narrator.service.core import NarratorService

    service = NarratorService(_settings(args))
    if args.action == "add":
        repo_ids = [service.find(source).id for source in args.repo] if args.repo else None
        print("Added " + service.subscribe(args.channel, args.to, repo_ids).line())
    elif args.action == "list":
        views = service.subscriptions()
        print("\n".join(view.line() for view in views) if views else
              "No subscription yet: add one with 'subscriptions add --to name@example.com'.")
    elif args.action == "remove":
        service.unsubscribe(args.id)
        print(f"Removed subscription #{args.id}.")
    else:
        service.set_subscribed(args.id, args.action == "resume")
        print(f"Subscription #{args.id} {'resumed' if args.action == 'resume' else 'paused'}.")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    """Forget a repository: every row of it, and the narrator's own clone of a URL (never a folder of yours)."""
    from db.errors import NarratorError
    from narrator.service.core import NarratorService

    service = NarratorService(_settings(args))
    try:
        repo = service.find(args.repo)
    except NarratorError:  # find's advice ("narrate it first") is not for someone removing it
        raise NarratorError(f"No repository was added as {args.repo}: nothing removed.") from None
    print(service.remove_repository(repo.id).line())
    return 0


def period_arg(text: str):
    """A named period (``7d``, ``30d``, ``90d``, each also with ``-commits``), or ``YYYY-MM-DD..YYYY-MM-DD``."""
    from datetime import date

    from narrator.insights.periods import PERIOD_NAMES, choose_period

    if ".." not in text:
        if text not in PERIOD_NAMES:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a period: use {', '.join(PERIOD_NAMES)} or FROM..TO (YYYY-MM-DD)")
        return text
    first, _, last = text.partition("..")
    try:
        start, end = date.fromisoformat(first), date.fromisoformat(last)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date range: use YYYY-MM-DD..YYYY-MM-DD") from None
    if end < start:
        raise argparse.ArgumentTypeError(f"{text!r} ends before it starts")
    try:
        choose_period([], (start, end))  # the same checks as every other caller's (a day before 1970)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r}: {error}") from None
    return (start, end)


def cmd_worker(args: argparse.Namespace) -> int:
    """``worker JOB_ID``: run that job (the dashboard starts it so); ``worker``: a task queue worker."""
    if args.job_id is None:
        import logging

        from narrator.pipeline.task_queue import run_worker

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        run_worker(load_settings(), threads=args.threads, ready=lambda line: print(line, flush=True))
        return 0
    from narrator.pipeline.jobs import work
    from narrator.pipeline.narrate import run_job

    work(load_settings(), args.job_id, run_job)
    return 0


def parser(prog: str = "python -m narrator", more: dict[str, str] | None = None) -> argparse.ArgumentParser:
    """The command line's parser, named ``prog`` in its messages.

    ``more``: further commands (name: help line) that another entry point runs itself, as
    ``code-narrator`` does ``evaluate``, ``bench`` and ``dashboard`` (narrator/cli.py): they are only
    listed in the help here; their arguments are theirs.
    """
    p = argparse.ArgumentParser(prog=prog, description="Tell non-technical readers what a repository does and what changed.")
    sub = p.add_subparsers(dest="command", required=True, metavar="{" + ",".join((*COMMANDS, *(more or {}))) + "}")

    n = sub.add_parser("narrate", help="narrate a repository (a local path or an https/ssh URL)")
    which = n.add_mutually_exclusive_group(required=True)
    which.add_argument("repo", nargs="?")
    which.add_argument("--all", action="store_true",
                       help="refresh every added repository, one after another, or through the task queue's workers "
                            "when CODE_NARRATOR_QUEUE is set (for cron or a systemd timer)")
    n.add_argument("--commits", type=int, default=COMMITS, help=f"latest commits to explain (default {COMMITS})")
    n.add_argument("--full", action="store_true", help="narrate every file, not only the most important")
    n.add_argument("--db", help="SQLAlchemy URL of the cache (default: a SQLite file in the user data folder)")
    n.add_argument("--model", help="embedded (default), a Hugging Face id or folder, openai:URL[#model], or fake")
    n.add_argument("--adapter", help="a LoRA adapter folder to apply on top of the model")
    n.set_defaults(func=cmd_narrate)

    s = sub.add_parser("show", help="print the briefing and the cached narratives for a terminal (no model is loaded)")
    s.add_argument("repo")
    s.add_argument("--format", choices=("text", "markdown"), default="text",
                   help="text (default: plain text wrapped to the terminal) or markdown")
    s.add_argument("--commits", type=int, default=COMMITS, help=f"latest commits to list (default {COMMITS})")
    s.add_argument("--period", type=period_arg, default=DIGEST_PERIOD,
                   help="digest period: 7d (the last 7 days up to today, default), 30d, 90d; 7d-commits, 30d-commits, "
                        "90d-commits (the last days up to the latest commit); or FROM..TO")
    s.add_argument("--db", help="SQLAlchemy URL of the cache")
    s.add_argument("--model", help="the model whose narratives count as fresh")
    s.add_argument("--adapter", help="the adapter whose narratives count as fresh")
    s.set_defaults(func=cmd_show)

    r = sub.add_parser("report", help="write a report to share (Markdown, HTML or PDF; no model is loaded)")
    r.add_argument("repo")
    r.add_argument("--period", type=period_arg, default=REPORT_PERIOD,
                   help="period: 7d, 30d (the last 30 days up to today, default), 90d; 7d-commits, 30d-commits, "
                        "90d-commits (the last days up to the latest commit); or FROM..TO")
    r.add_argument("--format", help="md, html (one self-contained file) or pdf (default: from the --out suffix, else md)")
    r.add_argument("--out", required=True,
                   help="the file to write (an existing one is replaced only once the new one is whole), "
                        "or - for standard output")
    r.add_argument("--db", help="SQLAlchemy URL of the cache")
    r.add_argument("--model", help="the model whose narratives count as fresh")
    r.add_argument("--adapter", help="the adapter whose narratives count as fresh")
    r.set_defaults(func=cmd_report)

    d = sub.add_parser("send", help="send each subscriber the briefing of their repositories (for cron or a systemd timer)")
    d.add_argument("--period", type=period_arg, default=DIGEST_PERIOD,
                   help="7d (the 7 days up to today, default), 30d, 90d, or FROM..TO; each period is sent once")
    d.add_argument("--db", help="SQLAlchemy URL of the cache")
    d.set_defaults(func=cmd_send)

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", help="SQLAlchemy URL of the cache")
    u = sub.add_parser("subscriptions", help="add, list, pause, resume or remove who gets the briefing")
    actions = u.add_subparsers(dest="action", required=True, metavar="{add,list,pause,resume,remove}")
    a = actions.add_parser("add", parents=[common], help="subscribe an e-mail address or a chat webhook")
    a.add_argument("--channel", default="email", help="email (default), slack, teams or mattermost")
    a.add_argument("--to", required=True, help="an e-mail address, or the channel's incoming-webhook URL (https)")
    a.add_argument("--repo", action="append", help="a repository, by the path or URL it was added with "
                                                   "(repeat for several; default: every repository)")
    actions.add_parser("list", parents=[common], help="every subscription and its last delivery")
    for action in ("pause", "resume", "remove"):
        actions.add_parser(action, parents=[common], help=f"{action} a subscription").add_argument("id", type=int)
    u.set_defaults(func=cmd_subscriptions)

    x = sub.add_parser("remove", help="forget a repository: its narratives, history and jobs, and the narrator's "
                                      "own clone of a URL (a folder on this computer is left as it is)")
    x.add_argument("repo", help="the path or URL it was added with")
    x.add_argument("--db", help="SQLAlchemy URL of the cache")
    x.set_defaults(func=cmd_remove)

    w = sub.add_parser("worker", help="take narration jobs from the task queue (CODE_NARRATOR_QUEUE) until stopped",
                       description="Without JOB_ID: take narration jobs from the task queue "
                                             "(CODE_NARRATOR_QUEUE) until stopped. With it: run that job.")
    w.add_argument("job_id", type=int, nargs="?")
    w.add_argument("--threads", type=int, default=1, help="jobs run at once, sharing one loaded model (default 1)")
    w.set_defaults(func=cmd_worker)
    for name, text in (more or {}).items():
        sub.add_parser(name, help=text, add_help=False)
    return p


COMMANDS = ("narrate", "show", "report", "send", "subscriptions", "remove", "worker")
"""The commands a user runs (``worker JOB_ID`` is also how the dashboard runs one job)."""


def main(argv: list[str] | None = None, prog: str = "python -m narrator") -> int:
    given = sys.argv[1:] if argv is None else argv
    command = next((a for a in given if not a.startswith("-")), None)
    p = parser(prog)
    if command is not None and command not in COMMANDS:
        p.error(f"unknown command {command!r} (choose from {', '.join(COMMANDS)})")
    args = p.parse_args(argv)
    if getattr(args, "commits", 1) < 0:
        print("error: --commits must be zero or more", file=sys.stderr)
        return 2
    return run_command(lambda: args.func(args),
                       "interrupted: finished narratives are kept; run the same command again to resume")


if __name__ == "__main__":
    route_library_warnings(home_dir())  # here, not in main(): tests calling main() keep their own logging
    sys.exit(main())
