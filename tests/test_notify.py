"""`dealgate audit --notify`: the headline pushed to a webhook, Teams and email, for real.

Every delivery goes through apprise, unchanged, to a server on this machine: a web server in a
thread (HTTPS with a test certificate authority from trustme where the service is HTTPS only,
as Teams workflows are) and an SMTP server (aiosmtpd). Slack's endpoint cannot be pointed at
this machine, so for Slack only apprise's reading of the URL is tested. No test reaches the
internet.
"""

from __future__ import annotations

import base64
import csv
import email
import json
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from command import REPO, dealgate
from dealgate.report.figures import json_amounts_text

apprise = pytest.importorskip("apprise")

AS_OF = "2026-11-27"
EXPORT = REPO / "examples" / "salesforce-opportunities.csv"
TEAMS = REPO / "examples" / "teams.csv"
AUDIT = ("audit", str(EXPORT), "--teams", str(TEAMS), "--as-of", AS_OF)


@dataclass
class Post:
    path: str
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Webhook:
    """A web server on 127.0.0.1 that records every POST and answers `status`."""

    tls: ssl.SSLContext | None = None
    status: int = 200
    posts: list[Post] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                hook.posts.append(Post(self.path, self.rfile.read(length)))
                self.send_response(hook.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if self.tls is not None:
            self.server.socket = self.tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    server = Webhook()
    yield server
    server.close()


@pytest.fixture
def https_webhook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Webhook]:
    """HTTPS with a certificate from a test authority that requests (apprise's client) is
    told to trust, through REQUESTS_CA_BUNDLE in the environment dealgate runs in."""
    import trustme

    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    bundle = tmp_path / "test-ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    server = Webhook(tls=context)
    yield server
    server.close()


def _free_port() -> int:
    """A port nothing listens on: a connection to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Inbox:
    """An SMTP server's received mail (aiosmtpd), with one login: dealgate / SMTP-SECRET."""

    messages: list[Message] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.recipients.append(list(envelope.rcpt_tos))
        self.messages.append(email.message_from_bytes(envelope.original_content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def login(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        valid = isinstance(data, LoginPassword) and (data.login, data.password) == (
            b"dealgate",
            b"SMTP-SECRET",
        )
        return AuthResult(success=valid)

    inbox = Inbox()
    port = _free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=login,
        auth_require_tls=False,  # a local test server: no TLS, and the login still checked
    )
    controller.start()
    yield inbox, port
    controller.stop()


def _audited(folder: Path, *options: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    """The example audit with these options, and its JSON report, written to the folder."""
    report = folder / "audit.json"
    return dealgate(*AUDIT, "--format", "json", "--output", str(report), *options), report


def _summary(report: Path) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))["summary"]
    return summary


def _figure_lines(summary: dict[str, Any]) -> list[str]:
    """The headline's figures, as the JSON report of the same run states them."""
    lines = [
        f"Pipeline claimed: {json_amounts_text(summary['pipeline_claimed'])}",
        f"Supported by evidence: {json_amounts_text(summary['pipeline_supported'])}",
        f"At risk: {json_amounts_text(summary['pipeline_at_risk'])} in "
        f"{summary['deals_at_risk']} deals",
    ]
    commit = next(f for f in summary["forecast"] if f["category"] == "Commit")
    lines.append(
        f"Commit without evidence: {commit['without_evidence']} of {commit['deals']} deals, "
        f"{json_amounts_text(commit['without_evidence_amounts'])}"
    )
    return lines


def test_the_headline_reaches_a_json_webhook_with_the_reports_figures_and_the_report(
    tmp_path: Path, webhook: Webhook
) -> None:
    url = f"json://127.0.0.1:{webhook.port}/hooks/pipeline"
    run, report = _audited(tmp_path, "--notify", url)
    alone = dealgate(*AUDIT, "--format", "json", "--output", str(tmp_path / "alone.json"))
    assert run.returncode == alone.returncode == 1, run.stderr  # the audit's own code
    [post] = webhook.posts
    assert post.path == "/hooks/pipeline"
    message = post.json()
    assert message["title"].startswith("Pipeline audit: ")
    for line in _figure_lines(_summary(report)):
        assert line in message["message"], line
    [attachment] = message["attachments"]
    assert attachment["filename"] == "audit.json"
    assert base64.b64decode(attachment["base64"]) == report.read_bytes()
    assert "report attached" in run.stderr


def test_the_top_exceptions_are_the_largest_deals_needing_attention(
    tmp_path: Path, webhook: Webhook
) -> None:
    url = f"json://127.0.0.1:{webhook.port}/hook"
    _, report = _audited(tmp_path, "--notify", url)
    deals = json.loads(report.read_text(encoding="utf-8"))["deals"]
    attention = [d for d in deals if d["needs_attention"]]
    # The first currency alphabetically, largest amount first, as the table orders them.
    first = min(d["currency"] for d in attention)
    largest = max((d for d in attention if d["currency"] == first), key=lambda d: d["amount"] or 0)
    text = webhook.posts[0].json()["message"]
    assert f"Needing attention: {len(attention)} deals" in text
    exceptions = [line for line in text.splitlines() if line.startswith("- ") and "(006" in line]
    assert len(exceptions) == 5
    assert f"({largest['id']})" in exceptions[0] and largest["owner"] in exceptions[0]


def test_a_teams_workflow_gets_the_headline_over_https(
    tmp_path: Path, https_webhook: Webhook
) -> None:
    url = f"workflows://127.0.0.1:{https_webhook.port}/WORKFLOW-ID/SIGNATURE-SECRET/"
    run, report = _audited(tmp_path, "--notify", url)
    assert run.returncode == 1, run.stderr
    [post] = https_webhook.posts
    assert post.path.startswith("/workflows/WORKFLOW-ID/triggers/manual/paths/invoke")
    card = json.dumps(post.json())  # an adaptive card: the text is inside its body
    for line in _figure_lines(_summary(report)):
        assert json.dumps(line)[1:-1] in card, line
    assert "notified workflow://127.0.0.1" in run.stderr
    assert "SIGNATURE-SECRET" not in run.stderr + run.stdout


def test_a_report_link_reaches_a_service_that_takes_no_attachment(
    tmp_path: Path, https_webhook: Webhook
) -> None:
    """A Teams workflow takes no attachment: the message links where the team finds it."""
    link = "https://intranet.example.com/forecast/2026-11-27/audit.html"
    url = f"workflows://127.0.0.1:{https_webhook.port}/WORKFLOW-ID/SIGNATURE-SECRET/"
    run, _ = _audited(tmp_path, "--notify", url, "--notify-link", link)
    assert run.returncode == 1, run.stderr
    [post] = https_webhook.posts
    assert f"The report: {link}" in json.dumps(post.json())
    assert "report attached" not in run.stderr


def test_a_report_link_that_is_not_a_web_address_is_refused_unshown(tmp_path: Path) -> None:
    secret = "file:///srv/reports/audit.html?sig=TOKEN-1234"
    run, report = _audited(tmp_path, "--notify", "json://127.0.0.1:9/", "--notify-link", secret)
    assert run.returncode == 2
    assert "--notify-link must be an http:// or https:// address" in run.stderr
    assert "TOKEN-1234" not in run.stderr + run.stdout
    assert not report.exists()


def test_an_email_arrives_through_the_smtp_server_with_the_report_attached(
    tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    url = (
        f"mailto://dealgate:SMTP-SECRET@127.0.0.1:{port}?mode=insecure"
        "&from=dealgate@example.com&to=forecast@example.com"
    )
    run, report = _audited(tmp_path, "--notify", url)
    assert run.returncode == 1, run.stderr
    [message] = inbox.messages
    assert inbox.recipients == [["forecast@example.com"]]
    assert str(message["Subject"]).startswith("Pipeline audit: ")
    parts = list(message.walk())
    text = "".join(
        str(part.get_payload(decode=True), "utf-8")
        for part in parts
        if part.get_content_type() in ("text/plain", "text/html")
    )
    assert "Pipeline claimed: " + json_amounts_text(_summary(report)["pipeline_claimed"]) in text
    [attached] = [part for part in parts if part.get_filename() == "audit.json"]
    assert attached.get_payload(decode=True) == report.read_bytes()
    assert "SMTP-SECRET" not in run.stderr + run.stdout


def _teams_with_addresses(tmp_path: Path, addresses: dict[str, str]) -> Path:
    """examples/teams.csv with a Notify column: these managers' addresses, the others blank."""
    with TEAMS.open(encoding="utf-8", newline="") as source:
        rows = list(csv.DictReader(source))
    teams = tmp_path / "teams.csv"
    with teams.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, [*rows[0], "Notify"])
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "Notify": addresses.get(row["Manager"], "")})
    return teams


def test_each_manager_gets_only_their_own_teams_deals(tmp_path: Path, webhook: Webhook) -> None:
    hook = f"json://127.0.0.1:{webhook.port}"
    teams = _teams_with_addresses(
        tmp_path, {"Dana Whitfield": f"{hook}/dana", "Luis Romero": f"{hook}/luis"}
    )
    report = tmp_path / "audit.json"
    run = dealgate(
        "audit", str(EXPORT), "--teams", str(teams), "--as-of", AS_OF, "--format", "json",
        "--output", str(report), "--notify-managers",
    )  # fmt: skip
    assert run.returncode == 1, run.stderr
    deals = json.loads(report.read_text(encoding="utf-8"))["deals"]
    received = {post.path: post.json() for post in webhook.posts}
    assert set(received) == {"/dana", "/luis"}
    for path, manager in (("/dana", "Dana Whitfield"), ("/luis", "Luis Romero")):
        message = received[path]
        assert message["title"].endswith(f"{manager}'s team")
        assert not message.get("attachments")  # the report holds every team's deals
        own = {d["id"] for d in deals if d["manager"] == manager}
        others = {d["id"] for d in deals if d["manager"] != manager}
        audited = sum(1 for d in deals if d["manager"] == manager)  # an id may repeat
        assert f": {audited} deals audited" in message["message"]
        named = {word.strip("(),") for word in message["message"].split() if "006" in word}
        assert named and named <= own and not named & others
    # The managers without an address are said, each, not skipped.
    for manager in ("Claire Dubois", "Marco Bianchi", "Rachel Tan", "Jonah Feld"):
        assert f"warning: not notified: {manager}: no address in" in run.stderr
    assert "notified Dana Whitfield (json://127.0.0.1" in run.stderr


def test_notify_managers_with_required_exits_4_when_a_manager_has_no_address(
    tmp_path: Path, webhook: Webhook
) -> None:
    teams = _teams_with_addresses(tmp_path, {"Dana Whitfield": f"json://127.0.0.1:{webhook.port}"})
    run = dealgate(
        "audit", str(EXPORT), "--teams", str(teams), "--as-of", AS_OF, "--format", "json",
        "--notify-managers", "--notify-required",
    )  # fmt: skip
    assert run.returncode == 4, run.stderr
    assert len(webhook.posts) == 1


def test_a_teams_file_of_email_addresses_is_sent_through_the_named_server(
    tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    teams = _teams_with_addresses(tmp_path, {"Rachel Tan": "rachel.tan@example.com"})
    server = f"mailto://dealgate:SMTP-SECRET@127.0.0.1:{port}?mode=insecure&from=dg@example.com"
    run = dealgate(
        "audit", str(EXPORT), "--teams", str(teams), "--as-of", AS_OF, "--format", "json",
        "--notify-managers", "--notify-email-via", server,
    )  # fmt: skip
    assert run.returncode == 1, run.stderr
    assert inbox.recipients == [["rachel.tan@example.com"]]
    assert str(inbox.messages[0]["Subject"]).endswith("Rachel Tan's team")


def test_notify_managers_without_a_notify_column_is_a_usage_error_naming_the_file() -> None:
    run = dealgate(*AUDIT, "--notify-managers")
    assert run.returncode == 2
    assert "teams.csv" in run.stderr and "Owner, Manager, Region" in run.stderr
    assert run.stdout == ""  # refused before the audit


def test_a_failed_delivery_is_a_warning_and_the_audit_keeps_its_exit_code(
    tmp_path: Path, webhook: Webhook
) -> None:
    webhook.status = 500
    url = f"json://127.0.0.1:{webhook.port}/hook"
    run, _ = _audited(tmp_path, "--notify", url)
    assert run.returncode == 1  # what the audit found, as without --notify
    assert len(webhook.posts) == 1
    assert "warning: not notified: json://127.0.0.1" in run.stderr
    assert "500" in run.stderr
    passing = dealgate(*AUDIT, "--fail-on", "never", "--format", "json", "--notify", url)
    assert passing.returncode == 0, passing.stderr


def test_a_refused_delivery_with_notify_required_exits_4(tmp_path: Path) -> None:
    url = f"json://127.0.0.1:{_free_port()}/hook"
    run = dealgate(*AUDIT, "--fail-on", "never", "--format", "json", "--notify", url,
                   "--notify-required")  # fmt: skip
    assert run.returncode == 4
    assert "warning: not notified: json://127.0.0.1" in run.stderr
    assert json.loads(run.stdout)["summary"]  # the report was written all the same


def test_secrets_in_notification_urls_never_appear_in_output_or_report(
    tmp_path: Path, webhook: Webhook
) -> None:
    webhook.status = 500
    secrets = ("HOOK-TOKEN-7f3a9c", "PASSWORD-b41d", "HEADER-SECRET-99")
    failing = (
        f"json://alerts:{secrets[1]}@127.0.0.1:{webhook.port}/hooks/{secrets[0]}"
        f"?+Authorization=Bearer%20{secrets[2]}"
    )
    refused = f"jsons://user:{secrets[1]}@127.0.0.1:{_free_port()}/{secrets[0]}"
    report = tmp_path / "audit.md"
    run = dealgate(
        *AUDIT, "--format", "markdown", "--output", str(report), "--notify", failing,
        "--notify", refused, "-v",
    )  # fmt: skip
    assert webhook.posts[0].path == f"/hooks/{secrets[0]}"  # the token was used, not shown
    assert run.stderr.count("warning: not notified") == 2
    shown = run.stdout + run.stderr + report.read_text(encoding="utf-8")
    for secret in secrets:
        assert secret not in shown
    unreadable = dealgate(*AUDIT, "--notify", f"nosuchservice://{secrets[0]}@example.com")
    assert unreadable.returncode == 2
    assert not any(secret in unreadable.stderr + unreadable.stdout for secret in secrets)


def test_a_url_apprise_cannot_read_stops_the_audit_before_it_runs(tmp_path: Path) -> None:
    run, report = _audited(tmp_path, "--notify", "not a url")
    assert run.returncode == 2
    assert "not a notification URL apprise can read" in run.stderr
    assert not report.exists()


def test_a_slack_webhook_url_is_read_by_apprise_and_its_tokens_redacted() -> None:
    """Slack's endpoint cannot be pointed at a local server: apprise's own reading of the URL
    is what is tested, and nothing is sent."""
    from dealgate.notify import check_url, redacted

    url = "https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/XXXXXXXXXXXXSLACKSECRET"
    plugin = apprise.Apprise.instantiate(url)
    assert plugin is not None and type(plugin).__name__ == "NotifySlack"
    check_url(url)  # raises nothing
    assert "SLACKSECRET" not in redacted(url)
    assert redacted(url).startswith("slack://")


def test_notify_takes_the_python_route_so_the_headline_has_a_result(webhook: Webhook) -> None:
    url = f"json://127.0.0.1:{webhook.port}/hook"
    run = dealgate(*AUDIT, "--engine", "sql", "--format", "csv", "--notify", url, "-v")
    assert run.returncode == 1, run.stderr
    assert "columnar path not taken: --notify" in run.stderr
    assert len(webhook.posts) == 1


def test_notify_without_apprise_installed_names_the_extra_to_install() -> None:
    # apprise made unimportable in the child process, as on a machine without the extra.
    program = (
        "import sys; sys.modules['apprise'] = None; "
        "from dealgate.entry import main; main(sys.argv[1:])"
    )
    run = subprocess.run(
        [sys.executable, "-c", program, *AUDIT, "--notify", "json://127.0.0.1/hook"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2
    assert "pip install 'dealgate[notify]'" in run.stderr


def test_a_teams_file_gives_each_manager_every_address_on_their_reps_rows(tmp_path: Path) -> None:
    from dealgate.deals.source import read_teams

    teams = tmp_path / "teams.csv"
    teams.write_text(
        "Rep,Boss,Manager Email\n"
        "Sam Patel,Dana Whitfield,dana@example.com\n"
        "Olivia Brooks,Dana Whitfield,\n"
        "Marcus Reed,Dana Whitfield,json://127.0.0.1/dana\n"
        "Priya Raman,Luis Romero,\n",
        encoding="utf-8",
    )
    read = read_teams(teams, ("Rep", "Boss"))  # headers a mapping file's teams: names
    assert read.address_column == "Manager Email"
    assert read.addresses == {"Dana Whitfield": ("dana@example.com", "json://127.0.0.1/dana")}
    assert read.managers["Priya Raman"] == "Luis Romero"


@pytest.mark.parametrize("fmt", ["table", "json", "html", "csv"])
def test_the_headlines_counted_as_the_audit_judges_are_those_of_every_deal_kept(
    fmt: str,
) -> None:
    """--notify no longer keeps every deal: the headlines of the whole audit and of each
    manager's team are counted as the deals are judged (HeadlineTally), whatever the report
    keeps. They read as those made from every deal kept."""
    from datetime import date

    from dealgate.application import AuditRequest, deal_taker, run_audit_request
    from dealgate.deals.source import Reading
    from dealgate.engines import get_engine
    from dealgate.report.headline import HeadlineTally, audit_headline, headline_tally
    from dealgate.report.ordering import ExceptionOrder
    from dealgate.rules.loader import load_pack

    request = AuditRequest(
        pipeline=REPO / "examples" / "salesforce-opportunities.csv",
        pack=load_pack("buyer-journey"),
        as_of=date(2026, 11, 27),
        engine=get_engine("durable"),
        reading=Reading(teams=REPO / "examples" / "teams.csv"),
        format=fmt,
        notify=True,
        deals_read_after=False,
        table_rows=(10, ExceptionOrder.AMOUNT),
    )
    assert deal_taker(request) is not None  # the deals are not all kept
    counted = run_audit_request(request).result
    kept = run_audit_request(AuditRequest(**{**request.__dict__, "deals_read_after": True}))
    assert counted is not None and kept.result is not None and kept.result.streamed is None
    assert counted.streamed is not None
    assert isinstance(counted.streamed.headlines, HeadlineTally)
    streamed, whole = headline_tally(counted), headline_tally(kept.result)
    assert list(streamed.teams) == list(whole.teams) and len(whole.teams) > 1
    assert audit_headline(counted, streamed.whole) == audit_headline(kept.result, whole.whole)
    for manager, team in whole.teams.items():
        mine = audit_headline(counted, streamed.teams[manager], manager)
        assert mine == audit_headline(kept.result, team, manager)
        assert "more in the report" in mine.body or team.first.seen <= 5
