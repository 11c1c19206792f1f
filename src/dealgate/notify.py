"""Push an audit's headline to chat, email or any webhook (`audit --notify`, docs/notify.md).

apprise, the `notify` extra, sends it: one URL syntax covers Slack, Microsoft Teams, email and
JSON webhooks. A notification URL carries secrets (a webhook token, a password), so it is only
ever shown as `redacted` gives it; and apprise's own log, whose lines can name a URL and the
errors requests raises with it, never reaches the terminal: what a failed delivery says is
taken from it with the URL's secrets masked.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from dealgate.deals.profiles import header_key
from dealgate.errors import UsageError
from dealgate.report.headline import Headline, audit_headline, headline_tally

if TYPE_CHECKING:
    from dealgate.audit import AuditResult
    from dealgate.deals.source import Teams

INSTALL = "pip install 'dealgate[notify]'"
_PIECES = re.compile(r"[/:@?&=#+,;\s]+")
_EMAIL = re.compile(r"[^@\s/:]+@[^@\s/:]+\.[^@\s/:]+")


class NotifyUnavailable(UsageError):
    """--notify without apprise installed."""


@dataclass(frozen=True)
class Target:
    """Where a headline goes: an apprise URL (a secret, never shown), and for whom."""

    url: str = field(repr=False)
    recipient: str | None = None  # the manager, with --notify-managers

    @property
    def shown(self) -> str:
        return redacted(self.url)


@dataclass(frozen=True)
class Delivery:
    """What came of one notification."""

    target: str  # the URL, redacted
    recipient: str | None
    delivered: bool
    attached: bool = False  # the report went along as an attachment
    reason: str = ""  # why it was not delivered, its secrets masked


def require_apprise() -> None:
    """Raise NotifyUnavailable when apprise (the notify extra) is not installed."""
    try:
        import apprise  # noqa: F401
    except ImportError:
        raise NotifyUnavailable(
            f"--notify needs the notification library apprise: {INSTALL}"
        ) from None


def redacted(url: str) -> str:
    """A notification URL fit to show: apprise's privacy form (passwords and service tokens
    masked), each path segment masked too (a generic webhook's token is in its path), no
    query (it can carry tokens and headers). A URL apprise cannot read shows its scheme only."""
    plugin = _plugin(url)
    if plugin is None:
        scheme = urlsplit(url).scheme if "://" in url else ""
        return f"{scheme}://****" if scheme else "****"
    shown = urlsplit(str(plugin.url(privacy=True)))
    path = "/".join(_masked(segment) for segment in shown.path.split("/"))
    return urlunsplit((shown.scheme, shown.netloc, path, "", ""))


def _masked(segment: str) -> str:
    if not segment or "..." in segment:  # empty, or masked by apprise already
        return segment
    return f"{segment[0]}...{segment[-1]}" if len(segment) > 6 else "****"


def check_url(url: str, what: str = "--notify") -> None:
    """Raise UsageError when apprise cannot read a URL (the URL redacted in the message)."""
    if _plugin(url) is None:
        raise UsageError(
            f"{what} {redacted(url)}: not a notification URL apprise can read "
            "(docs/notify.md lists examples; apprise's documentation lists every service)"
        )


def address_url(address: str, email_via: str | None) -> str:
    """The notification URL of a teams file's address: a URL as given, or an email address
    sent through the server of `email_via` (a mailto:// URL, --notify-email-via)."""
    if "://" in address or not _EMAIL.fullmatch(address):
        return address
    if email_via is None:
        raise UsageError(
            f"the email address {address} needs an email server: give one with "
            "--notify-email-via mailto://USER:PASSWORD@SMTP-HOST (docs/notify.md)"
        )
    return f"{email_via}{'&' if '?' in email_via else '?'}to={quote(address, safe='@')}"


def deliver(headline: Headline, target: Target, attachment: Path | None = None) -> Delivery:
    """Send a headline to one target, with the report attached when there is one and the
    service takes attachments."""
    import apprise

    with _quiet_apprise() as log:
        plugin = _plugin(target.url)
        if plugin is None:
            return Delivery(target.shown, target.recipient, False, reason="not a valid URL")
        attach = attachment is not None and bool(plugin.attachment_support)
        notifier = apprise.Apprise()
        notifier.add(plugin)
        sent = notifier.notify(
            body=headline.body,
            title=headline.title,
            body_format=apprise.NotifyFormat.MARKDOWN,
            attach=str(attachment) if attach else None,
        )
    reason = "" if sent else _scrubbed(log[-1] if log else "not delivered", target.url)
    return Delivery(target.shown, target.recipient, bool(sent), attach and bool(sent), reason)


def _plugin(url: str) -> Any:
    """apprise's reading of a URL (its service plugin), or None; quietly."""
    import apprise

    with _quiet_apprise():
        return apprise.Apprise.instantiate(url)


def _scrubbed(text: str, url: str) -> str:
    """apprise's message with every piece of the URL that its redacted form hides masked."""
    shown = set(_PIECES.split(redacted(url)))
    pieces = {piece for raw in _PIECES.split(url) for piece in (raw, unquote(raw))}
    for piece in sorted(pieces - shown, key=len, reverse=True):
        if len(piece) >= 2:
            text = text.replace(piece, "****")
    return " ".join(text.split())


class _Collected(logging.Handler):
    def __init__(self, messages: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.messages = messages

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _quiet_apprise() -> Iterator[list[str]]:
    """apprise's warnings collected, not printed: they can name the URL. Without a handler of
    its own, Python's last resort would print them to stderr."""
    logger = logging.getLogger("apprise")
    messages: list[str] = []
    handler = _Collected(messages)
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


@dataclass(frozen=True)
class NotifyRequest:
    """Where an audit's headlines go: the whole audit's to `targets`, and with
    `managers` (--notify-managers) each manager's team's to the manager's addresses."""

    targets: tuple[Target, ...] = ()
    managers: dict[str, tuple[Target, ...]] | None = None  # manager key -> targets
    teams_file: str = ""  # where the managers' addresses come from
    report_link: str | None = None  # --notify-link: where the team finds the report

    def __bool__(self) -> bool:
        return bool(self.targets) or self.managers is not None


def notify_request(
    urls: list[str],
    teams: Teams | None = None,
    teams_file: str = "",
    email_via: str | None = None,
    report_link: str | None = None,
) -> NotifyRequest:
    """Check every URL before the audit runs, and each manager's address in a teams file read
    with its address column. Raises UsageError (URLs redacted)."""
    require_apprise()
    for url in urls:
        check_url(url)
    if email_via is not None:
        check_url(email_via, "--notify-email-via")
    if report_link is not None and urlsplit(report_link).scheme not in ("http", "https"):
        raise UsageError(
            "--notify-link must be an http:// or https:// address (it is not shown here: it "
            "may hold a token)"
        )
    if teams is None:
        return NotifyRequest(tuple(Target(url) for url in urls), report_link=report_link)
    if teams.address_column is None:
        raise UsageError(
            f"--notify-managers reads each manager's address from a Notify column of "
            f"{teams_file}, which has none (its headers: {', '.join(teams.headers)}); add "
            "one (Notify, Notify URL, Email or Address) with each manager's URL or email address"
        )
    managers: dict[str, tuple[Target, ...]] = {}
    for manager, addresses in teams.addresses.items():
        found = []
        for address in addresses:
            url = address_url(address, email_via)
            check_url(url, f"the {teams.address_column} of {manager} in {teams_file}:")
            found.append(Target(url, manager))
        managers[header_key(manager)] = tuple(found)  # as filters key names
    return NotifyRequest(tuple(Target(url) for url in urls), managers, teams_file, report_link)


def notify_audit(
    result: AuditResult, request: NotifyRequest, attachment: Path | None = None
) -> list[Delivery]:
    """The audit's headline to each --notify target, and each manager's own to that manager;
    a manager without an address, and deals without a manager, as deliveries not made."""
    link = request.report_link
    tally = headline_tally(result)
    whole = audit_headline(result, tally.whole, link=link)
    deliveries = [deliver(whole, target, attachment) for target in request.targets]
    if request.managers is None:
        return deliveries
    for manager, team in tally.teams.items():
        if manager is None:
            count = team.tally.deals
            deliveries.append(
                Delivery("", "(no manager)", False, reason=f"{count} deals have no manager")
            )
            continue
        targets = request.managers.get(header_key(manager), ())
        if not targets:
            reason = f"no address in {request.teams_file}"
            deliveries.append(Delivery("", manager, False, reason=reason))
            continue
        # The report is never attached here: it holds every team's deals, not only theirs.
        own = audit_headline(result, team, manager, link=link)
        deliveries += [deliver(own, replace(t, recipient=manager)) for t in targets]
    return deliveries
