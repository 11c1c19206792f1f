"""`dealgate check sf:ID` and `dealgate audit sf:` against a Salesforce org served locally.

The org is an HTTPS server on 127.0.0.1 (certificates from trustme, trusted through
SSL_CERT_FILE) that replays answers written by hand in Salesforce's documented REST formats
(tests/fixtures/live/salesforce). dealgate runs as a user runs it, with its real HTTP client:
no test reaches the internet.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import trustme

from command import dealgate
from dealgate.live.http import CrmError
from dealgate.live.salesforce import credentials, soql_quote

FIXTURES = Path(__file__).parent / "fixtures" / "live" / "salesforce"
TOKEN = "00DDn00000AbCdE!AQ4AQSecret.Token.That.Must.Never.Show_x9"
DEAL = "006Dn000004XyZaIAK"
DATA = "/services/data/v60.0"
NEXT_PAGE = f"{DATA}/query/01gDn000004Pz9mIAC-2000"
MORE_ROLES = f"{DATA}/query/01gDn000004Pz9nIAC-1"  # a subquery's own next page
AS_OF = ("--rules", "salesforce-default", "--as-of", "2026-03-01")

# One answer: HTTP status, the fixture file it replays, seconds to wait before answering.
Answer = tuple[int, str, float]


def org_answer(path: str, soql: str) -> Answer:
    """How the served org answers a GET: its describe, its queries, their second page."""
    if path == f"{DATA}/sobjects/Opportunity/describe":
        return 200, "describe.json", 0
    if path == NEXT_PAGE:
        return 200, "pipeline-page-2.json", 0
    if path == MORE_ROLES:
        return 200, "contact-roles-page-2.json", 0
    if path == f"{DATA}/query":
        if "FROM User" in soql:
            return 200, "users.json", 0
        if "FROM OpportunityStage" in soql:
            return 200, "stages.json", 0
        if f"Id = '{DEAL}'" in soql:
            return 200, "one-opportunity.json", 0
        if "Id = '" in soql:
            return 200, "no-records.json", 0
        return 200, "pipeline-page-1.json", 0
    return 404, "no-records.json", 0


@dataclass
class Org:
    """The served org: its URL, how it answers, and every request it was sent."""

    url: str
    answer: Callable[[str, str], Answer] = org_answer
    seen: list[tuple[str, str, str]] = field(default_factory=list)  # path, SOQL, Authorization

    def queries(self) -> list[str]:
        return [soql for _, soql, _ in self.seen if soql]


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, Path]:
    authority = trustme.CA()
    bundle = tmp_path_factory.mktemp("ca") / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    return authority, bundle


@pytest.fixture
def org(certificates: tuple[trustme.CA, Path], monkeypatch: pytest.MonkeyPatch) -> Iterator[Org]:
    authority, bundle = certificates
    served = Org("")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            soql = parse_qs(parts.query).get("q", [""])[0]
            served.seen.append((parts.path, soql, self.headers.get("Authorization", "")))
            status, fixture, delay = served.answer(parts.path, soql)
            time.sleep(delay)
            body = (FIXTURES / fixture).read_bytes()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=UTF-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:  # the client gave up waiting (the timeout test)
                pass

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.block_on_close = False  # a handler still sleeping is not waited for
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    served.url = f"https://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    for proxy in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(proxy, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    monkeypatch.setenv("SF_INSTANCE_URL", served.url)
    monkeypatch.setenv("SF_ACCESS_TOKEN", TOKEN)
    monkeypatch.delenv("SF_TARGET_ORG", raising=False)
    yield served
    server.shutdown()
    server.server_close()


def audit_json(*args: str, cwd: Path | None = None) -> dict[str, Any]:
    done = dealgate("audit", *args, *AS_OF, "--format", "json", **({"cwd": cwd} if cwd else {}))
    assert done.returncode in (0, 1), done.stderr
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def findings_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Each deal's findings and judgement, without where it was read from."""
    return [{k: v for k, v in deal.items() if k != "location"} for deal in document["deals"]]


def test_open_pipeline_is_read_page_after_page(org: Org) -> None:
    document = audit_json("sf:")
    assert [deal["id"] for deal in document["deals"]] == [
        DEAL,
        "006Dn000004XyZbIAK",
        "006Dn000004XyZcIAK",
    ]
    assert NEXT_PAGE in [path for path, _, _ in org.seen]
    [pipeline] = [soql for soql in org.queries() if "FROM Opportunity " in soql]
    assert "WHERE IsClosed = false" in pipeline
    assert "FROM OpportunityContactRoles" in pipeline  # the pack reads contacts
    assert "Economic_Buyer__c" in pipeline and "Pain__c" in pipeline  # its custom fields
    assert document["deals"][0]["location"]["file"] == "sf:"
    assert all(auth == f"Bearer {TOKEN}" for _, _, auth in org.seen)


def test_field_hidden_by_field_level_security_is_unmeasured_not_a_failed_query(
    org: Org,
) -> None:
    def hidden(path: str, soql: str) -> Answer:
        if path.endswith("/describe"):
            return 200, "describe-next-step-hidden.json", 0
        return org_answer(path, soql)

    org.answer = hidden
    done = dealgate("audit", "sf:", *AS_OF, "--format", "json")
    assert done.returncode in (0, 1), done.stderr
    assert "NextStep" not in "".join(org.queries())
    coverage = json.loads(done.stdout)["coverage"]
    unmeasured = {entry["milestone_id"]: entry["lacks"] for entry in coverage["unmeasured"]}
    assert "next_step" in unmeasured["HYG-NEXT-STEP"]
    assert "Opportunity.NextStep (next_step)" in done.stderr
    assert "field-level security" in done.stderr
    # the hint gives the CRM's reason, not "add a column" to a file nobody exported
    how = {entry["field"]: entry["how"] for entry in coverage["lacking_fields"]}
    assert how["next_step"] == (
        "the CRM did not give it: Opportunity.NextStep is not visible to this user"
    )


def _refusing(column: str, fixture: str) -> Callable[[str, str], Answer]:
    """The org, refusing (INVALID_FIELD) any query that selects a column of a related object
    this user cannot read, as field-level security makes Salesforce do."""

    def answer(path: str, soql: str) -> Answer:
        if "FROM Opportunity " in soql and column in soql:
            return 400, fixture, 0
        return org_answer(path, soql)

    return answer


def test_hidden_manager_of_the_owner_is_left_out_and_unmeasured(org: Org) -> None:
    """User.ManagerId hidden by field-level security: the describe of Opportunity cannot show
    it, so Salesforce's refusal of the query says it, and the query runs again without it."""
    org.answer = _refusing("Owner.Manager.Name", "invalid-field-manager.json")
    done = dealgate("audit", "sf:", *AS_OF, "--format", "json")
    assert done.returncode in (0, 1), done.stderr
    selects = [soql for soql in org.queries() if "FROM Opportunity " in soql]
    assert "Owner.Manager.Name" in selects[0] and "Owner.Manager.Name" not in selects[-1]
    assert "User.Manager is not visible to this user, so manager is unmeasured" in done.stderr
    assert {deal["id"] for deal in json.loads(done.stdout)["deals"]} >= {DEAL}


def test_hidden_contact_title_leaves_the_contact_roles_read(org: Org) -> None:
    org.answer = _refusing("Contact.Title", "invalid-field-title.json")
    live = audit_json("sf:")
    plain = [soql for soql in org.queries() if "FROM Opportunity " in soql][-1]
    assert "Contact.Title" not in plain and "Contact.Name" in plain
    assert "contacts" not in {entry["field"] for entry in live["coverage"]["lacking_fields"]}


def test_unknown_field_in_where_is_the_users_to_fix(org: Org) -> None:
    org.answer = _refusing("Regionn__c", "invalid-field-where.json")
    done = dealgate("audit", "sf:", *AS_OF, "--where", "Regionn__c = 'EMEA'")
    assert done.returncode == 2
    assert "INVALID_FIELD" in done.stderr and "check --where" in done.stderr
    assert "Traceback" not in done.stderr


def test_spent_daily_api_allocation_stops_with_a_clear_message(org: Org) -> None:
    org.answer = lambda path, soql: (403, "request-limit-exceeded.json", 0)
    done = dealgate("audit", "sf:", *AS_OF)
    assert done.returncode == 2
    assert "REQUEST_LIMIT_EXCEEDED" in done.stderr and "24 hours" in done.stderr
    assert len(org.seen) == 1  # no retry can help: it is not retried


def test_expired_token_exits_2_and_never_shows_the_token(org: Org, tmp_path: Path) -> None:
    org.answer = lambda path, soql: (401, "invalid-session-id.json", 0)
    saved = tmp_path / "out.jsonl"
    done = dealgate("check", f"sf:{DEAL}", *AS_OF, "--save", str(saved))
    assert done.returncode == 2
    assert "INVALID_SESSION_ID" in done.stderr and "expired" in done.stderr
    assert "Secret" not in done.stdout + done.stderr
    assert not saved.exists()


def test_org_slower_than_the_timeout_exits_2(org: Org) -> None:
    org.answer = lambda path, soql: (200, "describe.json", 3)
    started = time.monotonic()
    done = dealgate("audit", "sf:", *AS_OF, "--timeout", "0.5")
    assert done.returncode == 2
    assert "did not answer within 0.5 s" in done.stderr
    assert time.monotonic() - started < 15


def test_unreachable_host_exits_2(org: Org, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("SF_INSTANCE_URL", f"https://127.0.0.1:{port}")
    done = dealgate("audit", "sf:", *AS_OF)
    assert done.returncode == 2
    assert f"cannot reach Salesforce at 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr


def test_live_deal_gives_the_findings_of_the_same_deal_exported(org: Org) -> None:
    live = dealgate("check", f"sf:{DEAL}", *AS_OF, "--format", "json")
    exported = dealgate(
        "check",
        str(FIXTURES / "export-opportunities.csv"),
        "--contacts",
        str(FIXTURES / "export-contact-roles.csv"),
        "--stage-history",
        str(FIXTURES / "export-opportunity-history.csv"),
        *AS_OF,
        "--format",
        "json",
    )
    assert live.returncode == exported.returncode == 1, live.stderr + exported.stderr
    live_report, export_report = json.loads(live.stdout), json.loads(exported.stdout)
    assert live_report["deal"]["location"]["file"] == f"sf:{DEAL}"
    hints = []
    for report in (live_report, export_report):  # where it was read from: all that differs
        del report["coverage"]["source"], report["deal"]["location"]
        hints.append([entry.pop("how") for entry in report["coverage"]["lacking_fields"]])
    assert live_report == export_report
    # and how a field nobody supplies would be: the CRM's reason, a column of the file
    assert hints[0] and all(hint.startswith("the CRM did not give it: ") for hint in hints[0])
    assert not any(hint.startswith("the CRM") for hint in hints[1])
    assert any(f"Id = '{DEAL}'" in soql for soql in org.queries())


def test_audit_saved_then_read_back_gives_identical_findings(org: Org, tmp_path: Path) -> None:
    saved = tmp_path / "pipeline.jsonl"
    live = audit_json("sf:", "--save", str(saved))
    lines = saved.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    first = json.loads(lines[0])
    assert first["contacts"][0] == {
        "name": "Rose Gonzalez",
        "title": "CFO",
        "role": "Economic Buyer",
        "is_primary": True,
    }
    assert [change["stage"] for change in first["stage_history"]] == [
        "Prospecting",
        "Qualification",
        "Negotiation/Review",
    ]
    last = json.loads(lines[2])
    assert [contact["name"] for contact in last["contacts"]] == ["Tom Ripley", "Stella Pavlova"]
    again = audit_json(str(saved))
    assert findings_of(live) == findings_of(again)
    assert live["coverage"]["unmeasured"] == again["coverage"]["unmeasured"]


def test_owner_filter_is_checked_against_the_orgs_users(org: Org) -> None:
    done = dealgate("audit", "sf:", *AS_OF, "--owner", "Paula Gate")
    assert done.returncode == 2
    assert "--owner 'Paula Gate' is not a user of this Salesforce org" in done.stderr
    assert "did you mean 'Paula Gates'?" in done.stderr
    document = audit_json("sf:", "--owner", "paula gates")
    assert {deal["owner"] for deal in document["deals"]} == {"Paula Gates"}
    assert any("Owner.Name IN ('Paula Gates')" in soql for soql in org.queries())


def test_stage_filter_goes_into_the_query_when_the_org_knows_the_stage(org: Org) -> None:
    audit_json("sf:", "--stage", "negotiation/review")
    assert any("StageName IN ('Negotiation/Review')" in soql for soql in org.queries())


def test_where_is_added_to_the_query(org: Org) -> None:
    audit_json("sf:", "--where", "Type = 'New Business'")
    assert any("AND (Type = 'New Business')" in soql for soql in org.queries())


def test_salesforce_cli_org_is_used_when_no_token_is_set(
    org: Org, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded = json.loads((FIXTURES / "sf-org-display.json").read_text(encoding="utf-8"))
    recorded["result"]["instanceUrl"] = org.url  # the org this test serves
    answer = tmp_path / "org-display.json"
    answer.write_text(json.dumps(recorded), encoding="utf-8")
    arguments = tmp_path / "arguments"
    fake = tmp_path / "bin" / "sf"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho "$@" > {arguments}\ncat {answer}\n', encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:{__import__('os').environ['PATH']}")
    monkeypatch.delenv("SF_ACCESS_TOKEN")
    monkeypatch.delenv("SF_INSTANCE_URL")
    done = dealgate("check", f"sf:{DEAL}", *AS_OF, "--target-org", "acme")
    assert done.returncode == 1, done.stderr
    assert arguments.read_text().split() == ["org", "display", "--json", "--target-org", "acme"]
    token = recorded["result"]["accessToken"]
    assert {auth for _, _, auth in org.seen} == {f"Bearer {token}"}
    assert token not in done.stdout + done.stderr


def test_salesforce_cli_without_a_login_exits_2(
    org: Org, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "bin" / "sf"
    fake.parent.mkdir()
    said = {
        "status": 1,
        "name": "NoOrgFound",
        "message": "No authorization information found (00DDn00000AbCdE!AQ4AQLeaked.Secret).",
    }
    fake.write_text(f"#!/bin/sh\necho '{json.dumps(said)}'\nexit 1\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:{__import__('os').environ['PATH']}")
    monkeypatch.delenv("SF_ACCESS_TOKEN")
    monkeypatch.delenv("SF_INSTANCE_URL")
    done = dealgate("audit", "sf:", *AS_OF)
    assert done.returncode == 2
    assert "No authorization information found" in done.stderr
    assert "sf org login web" in done.stderr
    assert "AQ4AQLeaked" not in done.stderr  # a token the CLI prints is never repeated
    assert not org.seen


def test_unknown_opportunity_id_exits_2(org: Org) -> None:
    done = dealgate("check", "sf:006Dn000004XyZzIAK", *AS_OF)
    assert done.returncode == 2
    assert "no opportunity 006Dn000004XyZzIAK" in done.stderr


def test_malformed_id_is_refused_before_any_request(org: Org) -> None:
    done = dealgate("check", "sf:006Dn' OR Name != '", *AS_OF)
    assert done.returncode == 2
    assert "is not a Salesforce record id" in done.stderr
    assert not org.seen


def test_live_options_with_a_file_are_a_usage_error() -> None:
    done = dealgate("audit", str(FIXTURES / "export-opportunities.csv"), "--where", "x = 1")
    assert done.returncode == 2
    assert "--where: for a live source" in done.stderr


def test_where_with_hubspot_is_a_usage_error() -> None:
    done = dealgate("audit", "hubspot:", "--where", "Amount > 0")
    assert done.returncode == 2
    assert "--where is a SOQL condition, for sf: only" in done.stderr


def test_soql_values_are_quoted_safely() -> None:
    assert soql_quote("O'Brien") == "'O\\'Brien'"
    assert soql_quote("back\\slash' OR Id != '") == "'back\\\\slash\\' OR Id != \\''"


def test_live_source_without_httpx_names_the_extra_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "without-httpx" / "httpx"
    missing.mkdir(parents=True)
    (missing / "__init__.py").write_text(
        'raise ModuleNotFoundError("No module named \'httpx\'", name="httpx")\n'
    )
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(missing.parent), os.environ.get("PYTHONPATH", "")])
    )
    done = dealgate("audit", "sf:", *AS_OF)
    assert done.returncode == 2
    assert "pip install 'dealgate[crm]'" in done.stderr


def test_live_audit_with_the_sql_engine_takes_the_python_route(org: Org) -> None:
    done = dealgate("audit", "sf:", *AS_OF, "--engine", "sql", "--format", "csv", "-v")
    assert done.returncode in (0, 1), done.stderr
    assert "columnar path not taken: a live source" in done.stderr
    assert DEAL in done.stdout


def test_report_that_would_replace_the_saved_read_is_refused(org: Org, tmp_path: Path) -> None:
    same = tmp_path / "pipeline.jsonl"
    done = dealgate("audit", "sf:", *AS_OF, "--save", str(same), "--output", str(same))
    assert done.returncode == 2
    assert "is --save" in done.stderr
    assert not org.seen


def test_a_token_without_its_instance_url_says_which_is_missing() -> None:
    with pytest.raises(CrmError, match="SF_INSTANCE_URL is not set") as raised:
        credentials({"SF_ACCESS_TOKEN": TOKEN, "PATH": ""})
    assert TOKEN not in str(raised.value)
