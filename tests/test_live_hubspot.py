"""HubSpot as a live source, against a local HTTPS server that answers as HubSpot's v3 API
does, from the documented answers in tests/fixtures/live/hubspot/. No test reaches the
internet and httpx is not mocked: the reader talks TLS to a real server."""

from __future__ import annotations

import csv
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import trustme

from command import dealgate
from dealgate.errors import UsageError
from dealgate.live import LiveRequest, LiveSource, save_records
from dealgate.live import hubspot as hubspot_module
from dealgate.live.http import CrmError, Limits
from dealgate.live.hubspot import read_hubspot

FIXTURES = Path(__file__).parent / "fixtures" / "live" / "hubspot"
TOKEN = "pat-eu1-0b7c2f1e-9a4d-4c3b-8e2f-5d6a7b8c9d0e"
# The fields hubspot-default reads, and those the report shows.
PACK_FIELDS = frozenset(
    {
        *("action_plan", "action_plan_agreed_on", "amount", "business_case_approved_on"),
        *("champion", "champion_tested_on", "close_date", "close_date_pushes"),
        *("compelling_event", "competitors", "contacts", "contract_sent_on"),
        *("contract_signed_on", "decision_criteria", "decision_process"),
        *("discovery_meeting_on", "economic_buyer", "economic_buyer_met_on"),
        *("forecast_category", "kickoff_date", "last_activity_date", "legal_review_done_on"),
        *("metrics", "next_step", "next_step_date", "num_associated_contacts", "pain"),
        *("pain_confirmed_by", "paper_process", "proposal_sent_on", "purchase_order_number"),
        *("purchase_order_required", "security_review_done_on", "security_review_required"),
        *("signatory", "solution_validated_on", "stage", "stage_history", "terms_agreed_on"),
        *("vendor_selected_on", "verbal_commit_on"),
        *("id", "name", "owner", "account", "probability", "created_date", "pipeline"),
    }
)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class FakeHubSpot:
    """HubSpot's v3 API over HTTPS, answering from the fixtures; what it was asked is kept."""

    url: str
    # method, path, and the JSON body of a POST or the query of a GET
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    queued: dict[str, list[Answer]] = field(default_factory=dict)  # path -> answers first
    search_cap: int = 10_000

    def answer(self, method: str, target: str, body: Any, authorization: str | None) -> Answer:
        path, query = urlsplit(target).path, parse_qs(urlsplit(target).query)
        self.requests.append((method, path, body if method == "POST" else query))
        if self.queued.get(path):
            return self.queued[path].pop(0)
        if authorization != f"Bearer {TOKEN}":
            return Answer(401, fixture("error-401.json"))
        if method == "GET" and path == "/crm/v3/properties/deals":
            return Answer(200, fixture("properties.json"))
        if method == "GET" and path == "/crm/v3/owners" and query.get("archived") == ["true"]:
            return Answer(200, fixture("owners-archived.json"))
        if method == "GET" and path == "/crm/v3/owners":
            return Answer(200, fixture("owners-2.json" if query.get("after") else "owners-1.json"))
        if method == "GET" and path == "/crm/v3/pipelines/deals":
            return Answer(200, fixture("pipelines.json"))
        if method == "POST" and path == "/crm/v3/objects/deals/search":
            return self._search(body)
        if method == "GET" and path.startswith("/crm/v3/objects/deals/"):
            return self._deal(path.rsplit("/", 1)[1], query)
        if method == "POST" and path.startswith("/crm/v4/associations/deals/"):
            return self._associations(path.split("/")[5], body)
        if method == "POST" and path.endswith("/batch/read"):
            return self._batch_read(path.split("/")[4], body)
        return Answer(404, {"status": "error", "message": f"no route {path}"})

    def _search(self, body: dict[str, Any]) -> Answer:
        deals = fixture("deals.json")["results"]
        for condition in body["filterGroups"][0]["filters"]:
            deals = [deal for deal in deals if _matches(deal, condition)]
        deals.sort(key=lambda deal: int(deal["id"]))
        start, limit = int(body.get("after", 0)), body["limit"]
        if start + limit > self.search_cap:  # as HubSpot refuses to page past 10,000
            return Answer(400, {"status": "error", "message": "paging past the result cap"})
        page = [_only(deal, body["properties"]) for deal in deals[start : start + limit]]
        answer: dict[str, Any] = {"total": len(deals), "results": page}
        if start + limit < len(deals):
            after = str(start + limit)
            answer["paging"] = {"next": {"after": after, "link": f"?after={after}"}}
        return Answer(200, answer)

    def _deal(self, deal_id: str, query: dict[str, list[str]]) -> Answer:
        found = [d for d in fixture("deals.json")["results"] if d["id"] == deal_id]
        if not found:
            return Answer(404, fixture("error-404.json"))
        deal = _only(found[0], query.get("properties", [""])[0].split(","))
        kinds = query.get("associations", [""])[0].split(",")
        linked = fixture("associations.json")[deal_id]
        deal["associations"] = {
            kind: {"results": [{"id": i, "type": f"deal_to_{kind[:-1]}"} for i in linked[kind]]}
            for kind in kinds
            if kind
        }
        return Answer(200, deal)

    def _associations(self, kind: str, body: dict[str, Any]) -> Answer:
        linked = fixture("associations.json")
        results = [
            {
                "from": {"id": item["id"]},
                "to": [
                    {"toObjectId": int(i), "associationTypes": [{"category": "HUBSPOT_DEFINED"}]}
                    for i in linked[item["id"]][kind]
                ],
            }
            for item in body["inputs"]
        ]
        return Answer(200, {"status": "COMPLETE", "results": results})

    def _batch_read(self, kind: str, body: dict[str, Any]) -> Answer:
        wanted = {item["id"] for item in body["inputs"]}
        records = [r for r in fixture(f"{kind}.json")["results"] if r["id"] in wanted]
        return Answer(200, {"status": "COMPLETE", "results": records})

    def searches(self) -> list[dict[str, Any]]:
        return [body for method, path, body in self.requests if path.endswith("/search")]


def _matches(deal: dict[str, Any], condition: dict[str, Any]) -> bool:
    value = deal["properties"].get(condition["propertyName"])
    operator = condition["operator"]
    if operator == "EQ":
        return bool(value == condition["value"])
    if operator == "IN":
        return value in condition["values"]
    if operator == "NOT_IN":
        return value not in condition["values"]
    if operator == "GT":
        return int(value) > int(condition["value"])
    raise AssertionError(f"the fake HubSpot knows no operator {operator}")


def _only(deal: dict[str, Any], properties: list[str]) -> dict[str, Any]:
    """A deal with only the properties asked for, as HubSpot answers (and its defaults)."""
    kept = set(properties) | {"hs_object_id", "createdate", "hs_lastmodifieddate"}
    shown = {name: value for name, value in deal["properties"].items() if name in kept}
    return {**deal, "properties": shown}


@pytest.fixture(scope="module")
def certificate_authority(tmp_path_factory: pytest.TempPathFactory) -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def hubspot(
    certificate_authority: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeHubSpot]:
    """A fake HubSpot on https://localhost:PORT, trusted through SSL_CERT_FILE."""
    ca_file = tmp_path / "ca.pem"
    certificate_authority.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate_authority.issue_cert("localhost").configure_cert(context)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._reply(None)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            self._reply(json.loads(self.rfile.read(length)))

        def _reply(self, body: Any) -> None:
            answer = fake.answer(self.command, self.path, body, self.headers["Authorization"])
            time.sleep(answer.delay)
            content = json.dumps(answer.body).encode()
            try:
                self.send_response(answer.status)
                for name, value in {"Content-Type": "application/json", **answer.headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)
            except OSError:
                pass  # the client gave up (the timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("localhost", 0), Handler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    fake = FakeHubSpot(f"https://localhost:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


def request_for(
    hubspot: FakeHubSpot,
    deal_id: str | None = None,
    *,
    token: str = TOKEN,
    limits: Limits | None = None,
    **options: Any,
) -> LiveRequest:
    return LiveRequest(
        LiveSource("hubspot", deal_id),
        PACK_FIELDS,
        limits=limits or Limits(timeout=5, retries=2),
        environment={"HUBSPOT_ACCESS_TOKEN": token, "HUBSPOT_API_URL": hubspot.url},
        **options,
    )


# --- reading ------------------------------------------------------------------------------


def test_open_pipeline_is_read_over_every_search_page_without_closed_deals(
    hubspot: FakeHubSpot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hubspot_module, "PAGE_SIZE", 2)
    read = read_hubspot(request_for(hubspot))
    ids = [record["hs_object_id"] for record in read.records]
    assert ids == ["15207000076", "15207000144", "15207000261", "15207000376"]
    searches = hubspot.searches()
    assert [search.get("after") for search in searches] == [None, "2"]
    assert {"propertyName": "hs_is_closed", "operator": "EQ", "value": "false"} in (
        searches[0]["filterGroups"][0]["filters"]
    )
    assert "read 4 deals from HubSpot" in read.notes[-1]


def test_pipeline_beyond_the_search_cap_is_read_in_windows_of_record_ids(
    hubspot: FakeHubSpot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hubspot_module, "PAGE_SIZE", 2)
    monkeypatch.setattr(hubspot_module, "SEARCH_CAP", 3)
    hubspot.search_cap = 3
    read = read_hubspot(request_for(hubspot))
    assert [r["hs_object_id"] for r in read.records] == [
        "15207000076",
        "15207000144",
        "15207000261",
        "15207000376",
    ]
    second = hubspot.searches()[1]["filterGroups"][0]["filters"]
    assert {"propertyName": "hs_object_id", "operator": "GT", "value": "15207000144"} in second
    assert any("read in 2 queries by record id" in note for note in read.notes)


def test_deal_is_written_as_the_export_writes_it(hubspot: FakeHubSpot) -> None:
    read = read_hubspot(request_for(hubspot, "15207000144"))
    [record] = read.records
    assert record["Deal owner"] == "Ben Carter"  # the owner id, resolved on the second page
    assert record["Deal Stage"] == "Decision Maker Bought-In"
    assert record["Pipeline"] == "Sales Pipeline"
    assert record["Associated Company"] == "Quantum Energy S.A."
    assert record['Date entered "Presentation Scheduled (Sales Pipeline)"'] == (
        "2026-09-21T08:10:00Z"
    )
    assert record["Economic Buyer Met On"] == "2026-09-30"  # eb_met_date, by its label
    assert record["associated_contacts"] == [
        {"name": "Lucas Lopez", "title": "Head of Transport"},
        {"name": "Omar Reyes", "title": "COO"},
    ]
    assert record["num_associated_contacts"] == "2"
    [(method, path, _)] = [r for r in hubspot.requests if "/objects/deals/" in r[1]]
    assert (method, path) == ("GET", "/crm/v3/objects/deals/15207000144")
    assert not hubspot.searches()


def test_deal_of_a_deactivated_owner_names_them_from_the_archived_owners(
    hubspot: FakeHubSpot,
) -> None:
    deal = fixture("deals.json")["results"][0]
    deal["properties"]["hubspot_owner_id"] = "70"
    hubspot.queued["/crm/v3/objects/deals/15207000076"] = [Answer(200, deal)]
    read = read_hubspot(request_for(hubspot, "15207000076"))
    assert read.records[0]["Deal owner"] == "Priya Nair"


def test_portal_without_hs_is_closed_leaves_out_its_closed_stages(
    hubspot: FakeHubSpot,
) -> None:
    listed = fixture("properties.json")["results"]
    without = [p for p in listed if p["name"] != "hs_is_closed"]
    hubspot.queued["/crm/v3/properties/deals"] = [Answer(200, {"results": without})]
    read = read_hubspot(request_for(hubspot))
    assert len(read.records) == 4
    [closed] = hubspot.searches()[0]["filterGroups"][0]["filters"]
    assert closed == {
        "propertyName": "dealstage",
        "operator": "NOT_IN",
        "values": ["closedlost", "closedwon"],
    }


def test_api_url_that_is_not_https_is_refused(hubspot: FakeHubSpot) -> None:
    request = request_for(hubspot)
    plain = {**request.environment, "HUBSPOT_API_URL": hubspot.url.replace("https", "http")}
    with pytest.raises(CrmError, match="must be an https:// URL"):
        read_hubspot(replace(request, environment=plain))
    assert hubspot.requests == []


def test_contacts_are_kept_aside_since_hubspot_has_no_roles(hubspot: FakeHubSpot) -> None:
    read = read_hubspot(request_for(hubspot, "15207000261"))
    [record] = read.records
    assert record["associated_contacts"] == [{"name": "Hannah Osei"}]  # no job title
    assert "contacts" not in record  # a list without roles would read as roles missing
    assert record["num_associated_contacts"] == "1"
    assert "no contact roles" in read.unmeasured["contacts"]


def test_property_the_token_cannot_see_is_unmeasured_and_not_asked_for(
    hubspot: FakeHubSpot,
) -> None:
    read = read_hubspot(request_for(hubspot, "15207000144"))
    assert "competitors" in read.unmeasured  # hidden in /properties
    assert "kickoff_date" in read.unmeasured  # not a property of this portal
    [query] = [q for _, path, q in hubspot.requests if path.endswith("/15207000144")]
    asked = query["properties"][0].split(",")
    assert "dealname" in asked and "eb_met_date" in asked
    assert "competitors" not in asked and "kickoff_date" not in asked
    assert "competitors" not in read.records[0]
    assert "Competitors" not in read.records[0]


def test_unknown_deal_id_is_a_clear_error(hubspot: FakeHubSpot) -> None:
    with pytest.raises(CrmError, match="no deal 99999 in HubSpot"):
        read_hubspot(request_for(hubspot, "99999"))


def test_deal_id_that_is_not_a_number_is_refused_before_any_request(
    hubspot: FakeHubSpot,
) -> None:
    with pytest.raises(UsageError, match="not a HubSpot deal id"):
        read_hubspot(request_for(hubspot, "006Dn000004XyZaIAK"))
    assert hubspot.requests == []


def test_owner_and_stage_filters_go_into_the_search(hubspot: FakeHubSpot) -> None:
    read = read_hubspot(request_for(hubspot, owners=("ben carter",), stages=("Qualified To Buy",)))
    assert [r["hs_object_id"] for r in read.records] == ["15207000261"]
    filters = hubspot.searches()[0]["filterGroups"][0]["filters"]
    assert {"propertyName": "hubspot_owner_id", "operator": "IN", "values": ["72"]} in filters
    assert {"propertyName": "dealstage", "operator": "IN", "values": ["qualifiedtobuy"]} in filters


def test_unknown_owner_suggests_the_closest(hubspot: FakeHubSpot) -> None:
    with pytest.raises(UsageError, match="no HubSpot owner 'Ben Cartr'; did you mean 'Ben Carter'"):
        read_hubspot(request_for(hubspot, owners=("Ben Cartr",)))
    assert not hubspot.searches()


def test_unknown_stage_suggests_the_closest(hubspot: FakeHubSpot) -> None:
    with pytest.raises(UsageError, match="did you mean 'Contract Sent'"):
        read_hubspot(request_for(hubspot, stages=("Contract Send",)))


def test_where_clause_is_said_to_be_unchecked(hubspot: FakeHubSpot) -> None:
    read = read_hubspot(request_for(hubspot, where="Amount > 1000"))
    assert any("unchecked" in note for note in read.notes)


# --- limits and failures ------------------------------------------------------------------


def test_missing_scope_says_what_hubspot_says(hubspot: FakeHubSpot) -> None:
    message = (
        "This app hasn't been granted all required scopes to make this call. "
        "Read more about required scopes here: https://developers.hubspot.com/scopes."
    )
    body = {"status": "error", "message": message, "category": "MISSING_SCOPES"}
    hubspot.queued["/crm/v3/owners"] = [Answer(403, body)]
    with pytest.raises(CrmError, match="refused access \\(403\\) to /crm/v3/owners: This app"):
        read_hubspot(request_for(hubspot))


def test_token_echoed_in_an_error_answer_is_redacted(hubspot: FakeHubSpot) -> None:
    body = {"status": "error", "message": f"bad request for token {TOKEN}"}
    hubspot.queued["/crm/v3/pipelines/deals"] = [Answer(400, body)]
    with pytest.raises(CrmError) as raised:
        read_hubspot(request_for(hubspot))
    assert "HubSpot answered 400 to /crm/v3/pipelines/deals: bad request for token ***" in str(
        raised.value
    )
    assert TOKEN not in str(raised.value)


def test_saved_record_keeps_the_export_order(hubspot: FakeHubSpot) -> None:
    [record] = read_hubspot(request_for(hubspot, "15207000076")).records
    keys = list(record)
    assert keys[:4] == ["hs_object_id", "dealname", "Deal owner", "Deal Stage"]


def test_rate_limited_request_is_retried_after_retry_after(hubspot: FakeHubSpot) -> None:
    hubspot.queued["/crm/v3/pipelines/deals"] = [
        Answer(429, fixture("error-429.json"), {"Retry-After": "0"})
    ]
    read = read_hubspot(request_for(hubspot, "15207000076"))
    assert read.records[0]["Deal Stage"] == "Qualified To Buy"
    pipelines = [r for r in hubspot.requests if r[1] == "/crm/v3/pipelines/deals"]
    assert len(pipelines) == 2


def test_rate_limit_that_never_lifts_is_a_clear_error_after_bounded_retries(
    hubspot: FakeHubSpot,
) -> None:
    hubspot.queued["/crm/v3/properties/deals"] = [
        Answer(429, fixture("error-429.json"), {"Retry-After": "0"}) for _ in range(10)
    ]
    with pytest.raises(CrmError, match=r"rate limiting this token \(429\) after 2 retries"):
        read_hubspot(request_for(hubspot, limits=Limits(timeout=5, retries=2)))
    assert len(hubspot.requests) == 3


def test_refused_token_is_a_clear_error_without_the_token(hubspot: FakeHubSpot) -> None:
    wrong = "pat-eu1-ffffffff-0000-4000-8000-000000000000"
    with pytest.raises(CrmError) as raised:
        read_hubspot(request_for(hubspot, token=wrong))
    assert "refused the token (401)" in str(raised.value)
    assert wrong not in str(raised.value)
    assert TOKEN not in str(raised.value)


def test_missing_token_names_the_variable_and_the_docs(hubspot: FakeHubSpot) -> None:
    with pytest.raises(CrmError) as raised:
        read_hubspot(request_for(hubspot, token=""))
    assert "HUBSPOT_ACCESS_TOKEN" in str(raised.value)
    assert "docs/live-crm.md" in str(raised.value)
    assert hubspot.requests == []


def test_slow_answer_times_out_clearly(hubspot: FakeHubSpot) -> None:
    hubspot.queued["/crm/v3/properties/deals"] = [Answer(200, {"results": []}, delay=2.0)]
    started = time.monotonic()
    with pytest.raises(CrmError, match=r"did not answer within 0\.5 s"):
        read_hubspot(request_for(hubspot, limits=Limits(timeout=0.5)))
    assert time.monotonic() - started < 2.0


def test_unreachable_host_is_a_clear_error(hubspot: FakeHubSpot) -> None:
    with socket.socket() as free:
        free.bind(("localhost", 0))
        port = free.getsockname()[1]
    request = LiveRequest(
        LiveSource("hubspot", None),
        PACK_FIELDS,
        limits=Limits(timeout=2),
        environment={"HUBSPOT_ACCESS_TOKEN": TOKEN, "HUBSPOT_API_URL": f"https://localhost:{port}"},
    )
    with pytest.raises(CrmError, match="cannot reach HubSpot at localhost") as raised:
        read_hubspot(request)
    assert TOKEN not in str(raised.value)


# --- a live deal and the same deal exported give the same findings -------------------------

EXPORT_COLUMNS = {
    "Record ID": "hs_object_id",
    "Deal Name": "dealname",
    "Associated Company": None,
    "Deal owner": "hubspot_owner_id",
    "Deal Stage": "dealstage",
    "Pipeline": "pipeline",
    "Amount": "amount",
    "Currency": "deal_currency_code",  # exported when the portal has more than one currency
    "Close Date": "closedate",
    "Create Date": "createdate",
    "Deal probability": "hs_deal_stage_probability",
    "Forecast category": "hs_forecast_category",
    "Next step": "hs_next_step",
    "Next Activity Date": "notes_next_activity_date",
    "Last Activity Date": "notes_last_updated",
    "Number of Associated Contacts": "num_associated_contacts",
}
FORECAST_LABELS = {"PIPELINE": "Pipeline", "BEST_CASE": "Best case", "COMMIT": "Commit"}


def export_csv(path: Path) -> None:
    """The fixture deals as HubSpot's export writes them (examples/hubspot-deals.csv): labels
    for ids, local date-times, percentages, custom properties under their labels."""
    properties = fixture("properties.json")["results"]
    owners = {o["id"]: f"{o['firstName']} {o['lastName']}" for o in _all_owners()}
    pipeline = fixture("pipelines.json")["results"][0]
    stages = {stage["id"]: stage["label"] for stage in pipeline["stages"]}
    companies = {c["id"]: c["properties"]["name"] for c in fixture("companies.json")["results"]}
    linked = fixture("associations.json")
    entered = {
        f"hs_date_entered_{i}": f'Date entered "{label} (Sales Pipeline)"'
        for i, label in stages.items()
    }
    custom = {
        p["name"]: p["label"]
        for p in properties
        if p["groupName"] == "custom_deal_properties" and not p["hidden"]
    }
    headers = [*EXPORT_COLUMNS, *entered.values(), *custom.values()]
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(headers)
        for deal in fixture("deals.json")["results"]:
            values = deal["properties"]
            if values["hs_is_closed"] == "true":
                continue
            row = []
            for name in EXPORT_COLUMNS.values():
                value = values.get(name) if name else companies[linked[deal["id"]]["companies"][0]]
                if name == "hubspot_owner_id":
                    value = owners[value]
                elif name == "dealstage":
                    value = stages[value]
                elif name == "pipeline":
                    value = pipeline["label"]
                elif name == "hs_deal_stage_probability":
                    value = f"{float(value) * 100:g}"
                elif name == "hs_forecast_category":
                    value = FORECAST_LABELS[value]
                row.append(_export_value(value))
            row += [_export_value(values.get(name)) for name in entered]
            row += [_export_value(values.get(name)) for name in custom]
            writer.writerow(row)


def _all_owners() -> list[dict[str, Any]]:
    return [*fixture("owners-1.json")["results"], *fixture("owners-2.json")["results"]]


def _export_value(value: str | None) -> str:
    """HubSpot's export writes date-times as `2026-06-08 08:35`."""
    if value is None:
        return ""
    if len(value) == 20 and value[10] == "T" and value.endswith("Z"):
        return f"{value[:10]} {value[11:16]}"
    return value


def findings_by_deal(report: dict[str, Any]) -> dict[str, Any]:
    return {
        deal["id"]: {
            "stage": (deal["stage"], deal["stage_id"], deal["evidence_stage"]),
            "disposition": deal["disposition"],
            "findings": sorted(
                (finding["milestone_id"], finding["kind"], finding["status"])
                for finding in deal["findings"]
            ),
        }
        for deal in report["deals"]
    }


def audit(path: Path) -> dict[str, Any]:
    ran = dealgate(
        "audit", str(path), "--rules", "hubspot-default", "--as-of", "2026-11-27",
        "--format", "json", "--include-met",
    )  # fmt: skip
    assert ran.returncode in (0, 1), ran.stderr
    report: dict[str, Any] = json.loads(ran.stdout)
    return report


def test_live_deals_and_the_same_deals_exported_give_the_same_findings(
    hubspot: FakeHubSpot, tmp_path: Path
) -> None:
    read = read_hubspot(request_for(hubspot))
    saved = tmp_path / "hubspot-live.jsonl"
    assert save_records(read.records, saved) == 4
    exported = tmp_path / "hubspot-export.csv"
    export_csv(exported)

    live, export = audit(saved), audit(exported)

    assert findings_by_deal(live) == findings_by_deal(export)
    assert len(live["deals"]) == 4
    live_data = sorted((f["deal_id"], f["message"]) for f in live["data_findings"])
    export_data = sorted((f["deal_id"], f["message"]) for f in export["data_findings"])
    assert live_data == export_data
    # What neither supplies is unmeasured in both, contacts (roles) among it, not missing.
    lacking = {entry["field"] for entry in live["coverage"]["lacking_fields"]}
    assert lacking == {entry["field"] for entry in export["coverage"]["lacking_fields"]}
    assert lacking >= {"competitors", "kickoff_date", "contacts"}
    assert lacking <= {*read.unmeasured}


# --- on the command line ------------------------------------------------------------------

HUBSPOT_AUDIT = ("--rules", "hubspot-default", "--as-of", "2026-11-27", "--format", "json")


@pytest.fixture
def logged_in(hubspot: FakeHubSpot, monkeypatch: pytest.MonkeyPatch) -> FakeHubSpot:
    """The fake HubSpot, with the token and API URL in the environment the CLI reads."""
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("HUBSPOT_API_URL", hubspot.url)
    return hubspot


def test_audit_of_hubspot_saves_what_it_read_and_finds_what_the_export_shows(
    logged_in: FakeHubSpot, tmp_path: Path
) -> None:
    saved = tmp_path / "pipeline.jsonl"
    live = dealgate("audit", "hubspot:", *HUBSPOT_AUDIT, "--include-met", "--save", str(saved))
    assert live.returncode in (0, 1), live.stderr
    assert TOKEN not in live.stdout + live.stderr
    report = json.loads(live.stdout)
    assert report["input"]["file"] == "hubspot:"
    exported = tmp_path / "hubspot-export.csv"
    export_csv(exported)
    assert (
        findings_by_deal(report)
        == findings_by_deal(audit(saved))
        == findings_by_deal(audit(exported))
    )
    assert len(report["deals"]) == 4  # the open ones


def test_check_of_one_hubspot_deal_gives_the_findings_of_the_deal_exported(
    logged_in: FakeHubSpot, tmp_path: Path
) -> None:
    deal = "15207000144"
    live = dealgate("check", f"hubspot:{deal}", *HUBSPOT_AUDIT)
    exported = tmp_path / "hubspot-export.csv"
    export_csv(exported)
    from_file = dealgate("check", str(exported), "--id", deal, *HUBSPOT_AUDIT)
    assert live.returncode == from_file.returncode, live.stderr + from_file.stderr
    live_report, file_report = json.loads(live.stdout), json.loads(from_file.stdout)
    assert live_report["deal"]["location"]["file"] == f"hubspot:{deal}"
    hints = []
    for report in (live_report, file_report):  # where it was read from: all that differs
        del report["coverage"]["source"], report["deal"]["location"]
        hints.append([entry.pop("how") for entry in report["coverage"]["lacking_fields"]])
    assert live_report == file_report
    # and how a field nobody supplies would be: the CRM's reason, a column of the file
    assert hints[0] and all(hint.startswith("the CRM did not give it: ") for hint in hints[0])
    assert not any(hint.startswith("the CRM") for hint in hints[1])


def test_hubspot_without_a_token_exits_2_naming_the_variable(
    hubspot: FakeHubSpot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HUBSPOT_ACCESS_TOKEN", raising=False)
    monkeypatch.setenv("HUBSPOT_API_URL", hubspot.url)
    done = dealgate("audit", "hubspot:", *HUBSPOT_AUDIT)
    assert done.returncode == 2
    assert "HUBSPOT_ACCESS_TOKEN" in done.stderr and "Traceback" not in done.stderr
    assert not hubspot.requests
