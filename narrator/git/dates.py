"""A commit's date and author as its header writes them, read so that no header can stop a narration.

A commit header names its author and committer as ``Name <email> SECONDS ZONE``: the seconds since
1970-01-01 UTC and the author's time zone as ``+HHMM``. Git itself writes them right, but commits
made by other tools carry every kind of mistake: a zone of ``+051800`` or ``+9959``, a negative or
missing date, a date past the year 9999 or past any integer, no author line at all. Git reads such
a header leniently (``git log`` prints ``+518:00``); Python's ``datetime`` refuses most of it.

The policy, applied in one place (``commit_date``) for ``narrator.pipeline.history_pass`` and ``narrator.git.commits``:

* a zone more than 14 hours from UTC, or with 60 minutes or more, is not a real zone: the moment is
  kept (the seconds are UTC) and shown in UTC;
* an author date that cannot be read (none, not digits, or past the year 9999) is replaced by the
  committer date when that one can be read, else by 1970-01-01 UTC (``UNKNOWN_DATE``);
* each of these comes with a note in plain words, which the commit's evidence shows;
* an author line without a name (or with none at all) reads as ``UNKNOWN_AUTHOR``.

A date later than today is readable: it is kept, and the pages warn about it (``future_note``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

UNKNOWN_AUTHOR = "unknown author"
"""The author of a commit whose header names none."""
UNKNOWN_DATE = datetime(1970, 1, 1, tzinfo=timezone.utc)
"""The date of a commit whose author and committer dates both cannot be read."""
MAX_ZONE = timedelta(hours=14)
"""No place on Earth is further from UTC than this (Kiribati, +14:00)."""
_SHOWN = 40
"""At most this many characters of an unreadable field are quoted in a note."""
_DATE = re.compile(rb"[ \t\n\v\f\r]*([0-9]+)[ \t\n\v\f\r]*([+-][0-9]+)")
"""After the last ``>``: the seconds, then a signed zone (anything after its digits is ignored, as git does)."""
_INT_LIMIT = 2**31 - 1
"""Git reads a zone as a C ``int`` and takes anything past it as +0000; so do we."""


@dataclass(frozen=True)
class Stamp:
    """A date as a header writes it: the seconds since 1970 and the zone, both as text."""

    seconds: str
    """The digits as written; '' where git found none (no date, a negative one, letters)."""
    zone: str = ""
    """'+0100', '-0530', '+51800'; '' for none."""


@dataclass(frozen=True)
class Ident:
    """An author or committer line: a name, an e-mail address and a date."""

    name: str
    email: str
    stamp: Stamp


def split_ident(line: bytes, encoding: str = "utf-8") -> Ident:
    """``Name <email> SECONDS ZONE`` read as git reads it (``split_ident_line``), never raising.

    Without ``<`` and ``>`` nothing is readable; without digits after the last ``>``, or without a
    signed zone after them, the date is not.
    """
    opening = line.find(b"<")
    closing = line.find(b">", opening + 1) if opening >= 0 else -1
    if closing < 0:
        return Ident("", "", Stamp(""))
    name, email = (_text(part, encoding) for part in (line[:opening].strip(), line[opening + 1:closing]))
    date = _DATE.match(line[line.rfind(b">") + 1:])
    stamp = Stamp(date[1].decode(), date[2].decode()) if date else Stamp("")
    return Ident(name, email, stamp)


def header_idents(raw: bytes, encoding: str = "utf-8") -> tuple[Ident | None, Ident | None]:
    """The author and committer of a raw commit object (None for a line it lacks)."""
    author = committer = None
    for line in raw.partition(b"\n\n")[0].split(b"\n"):
        if line.startswith(b"author ") and author is None:
            author = split_ident(line[len(b"author "):], encoding)
        elif line.startswith(b"committer ") and committer is None:
            committer = split_ident(line[len(b"committer "):], encoding)
    return author, committer


def author_name(name: str) -> str:
    """The name to show: ``UNKNOWN_AUTHOR`` for an empty one."""
    return name.strip() or UNKNOWN_AUTHOR


def read_stamp(stamp: Stamp) -> tuple[datetime | None, str | None]:
    """``(moment, note)``: the moment (None when it cannot be read) and a note on a zone set aside."""
    if not (stamp.seconds.isascii() and stamp.seconds.isdigit()):
        return None, None
    try:
        moment = UNKNOWN_DATE + timedelta(seconds=int(stamp.seconds))
    except (OverflowError, ValueError):  # past the year 9999, or past what a timedelta holds
        return None, None
    zone, note = _zone(stamp.zone)
    try:
        return moment.astimezone(zone), note
    except OverflowError:  # 31 Dec 9999 in a zone ahead of UTC
        return moment, note


def commit_date(author: Stamp | None, committer: Stamp | None) -> tuple[datetime, str | None]:
    """A commit's date and, when it is not simply the author date as written, a note saying why.

    See the module docstring for the policy. Never raises.
    """
    moment, zone_note = read_stamp(author or Stamp(""))
    if moment is not None:
        return moment, zone_note
    unread = "The commit's author date could not be read" + _quoted(author)
    moment, zone_note = read_stamp(committer or Stamp(""))
    if moment is not None:
        return moment, " ".join(filter(None, [f"{unread}; its committer date is shown.", zone_note]))
    return UNKNOWN_DATE, (f"{unread}, nor could its committer date{_quoted(committer)}; "
                          "it is shown as 1 Jan 1970.")


def future_note(when: datetime, today: date) -> str | None:
    """The warning for a commit dated after ``today`` (UTC days): its clock was wrong."""
    day = when.astimezone(timezone.utc).date()
    if day <= today:
        return None
    return f"Dated in the future ({day.isoformat()}): the clock of the computer that made it was wrong."


def _text(data: bytes, encoding: str) -> str:
    """``data`` decoded as ``encoding``, else as UTF-8; never raises."""
    try:
        return data.decode(encoding, "replace")
    except (LookupError, UnicodeError):
        return data.decode("utf-8", "replace")


def _zone(text: str) -> tuple[timezone, str | None]:
    """The zone ``+HHMM`` names, or UTC with a note for one that cannot be real."""
    if not text:
        return timezone.utc, None
    try:
        number = int(text)
    except ValueError:
        number = 0
    if abs(number) >= _INT_LIMIT:
        number = 0
    hours, minutes = divmod(abs(number), 100)
    offset = timedelta(hours=hours, minutes=minutes)
    if minutes >= 60 or offset > MAX_ZONE:
        shown = f"{number:+05d}"[:_SHOWN]
        return timezone.utc, f"The commit's time zone ({shown}) is not a real one; its time is shown in UTC."
    return timezone(-offset if number < 0 else offset), None


def _quoted(stamp: Stamp | None) -> str:
    """' (253402300800 seconds after 1970: past the year 9999)' for digits too large; '' otherwise."""
    if stamp is None or not (stamp.seconds.isascii() and stamp.seconds.isdigit()):
        return ""
    seconds = stamp.seconds if len(stamp.seconds) <= _SHOWN else stamp.seconds[:_SHOWN] + "…"
    return f" ({seconds} seconds after 1970: past the year 9999)"
