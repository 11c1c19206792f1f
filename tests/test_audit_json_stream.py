"""The JSON audit is written deal by deal (never the whole document in memory), and is byte
for byte what json.dumps writes of the whole document."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from dealgate.application import AuditRequest, run_audit_request
from dealgate.audit import AuditFilters, FailOn, run_audit
from dealgate.deals.source import Reading, open_deals
from dealgate.engines import get_engine
from dealgate.report.audit_json import audit_json, audit_json_chunks, jsonl_lines
from dealgate.rules.catalog import PackCatalog
from dealgate.rules.loader import load_pack

ROOT = Path(__file__).parent.parent
PACK = load_pack("buyer-journey", PackCatalog(cwd=Path("/nonexistent")))


@pytest.mark.parametrize(
    ("stages", "include_met"), [((), False), ((), True), (("closed_won",), False)]
)
def test_the_streamed_document_is_the_whole_one(stages: tuple[str, ...], include_met: bool) -> None:
    source = open_deals(ROOT / "examples" / "salesforce-opportunities.csv", PACK)
    result = run_audit(
        source,
        PACK,
        get_engine("durable"),
        date(2026, 11, 27),
        AuditFilters(stages=stages),  # closed_won: closed deals only, none audited
        include_met=include_met,
    )
    chunks = list(audit_json_chunks(result, include_met))
    whole = json.dumps(audit_json(result, include_met), indent=2) + "\n"
    assert "".join(chunks) == whole
    assert len(chunks) == len(json.loads(whole)["deals"]) + 1


def _report(request: AuditRequest) -> tuple[str, int]:
    """The JSON or JSON Lines report of an audit request, and its failing findings."""
    run = run_audit_request(request)
    assert run.result is not None
    if request.format == "jsonl":
        return "".join(jsonl_lines(run.result, request.include_met)), run.failing
    return "".join(audit_json_chunks(run.result, request.include_met)), run.failing


@pytest.mark.parametrize("form", ["json", "jsonl"])
@pytest.mark.parametrize(
    ("stages", "include_met", "fail_on"),
    [
        ((), False, FailOn.REQUIRED),
        ((), True, FailOn.RECOMMENDED),
        (("closed_won",), False, FailOn.REQUIRED),  # no deal audited: an empty list
    ],
)
def test_deals_spooled_as_judged_give_the_report_of_deals_kept(
    form: str, stages: tuple[str, ...], include_met: bool, fail_on: FailOn
) -> None:
    """An audit that writes its deals to a spool as it judges them, and keeps none, reports
    byte for byte what the audit that keeps them reports, and fails the same findings."""
    asked = AuditRequest(
        pipeline=ROOT / "examples" / "salesforce-opportunities.csv",
        pack=PACK,
        as_of=date(2026, 11, 27),
        engine=get_engine("durable"),
        reading=Reading(
            contacts=ROOT / "examples" / "salesforce-contact-roles.csv",
            teams=ROOT / "examples" / "teams.csv",
        ),
        filters=AuditFilters(stages=stages),
        fail_on=fail_on,
        include_met=include_met,
        format=form,
    )
    spooled = replace(asked, deals_read_after=False)
    run = run_audit_request(spooled)
    assert run.result is not None and run.result.assessments == []  # none kept
    run.result.streamed.discard()  # type: ignore[union-attr]
    kept_report, kept_failing = _report(asked)
    spooled_report, spooled_failing = _report(spooled)
    assert spooled_report == kept_report
    assert spooled_failing == kept_failing
    if not stages:  # the case has deals and failures to compare
        first = kept_report.splitlines()[0] if form == "jsonl" else kept_report
        assert kept_failing > 0 and json.loads(first)


def test_a_spooled_audit_has_no_kept_deals_to_misread() -> None:
    """Code that asks a spooled audit for its exceptions fails loudly instead of finding none."""
    run = run_audit_request(
        AuditRequest(
            pipeline=ROOT / "examples" / "salesforce-opportunities.csv",
            pack=PACK,
            as_of=date(2026, 11, 27),
            engine=get_engine("durable"),
            format="json",
            deals_read_after=False,
        )
    )
    assert run.result is not None
    with pytest.raises(AssertionError, match="not kept"):
        run.result.exceptions(include_met=False)
    run.result.streamed.discard()  # type: ignore[union-attr]
