"""The audit as JSON (one document) and JSON Lines (one deal per line)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from dealgate.audit import AuditResult, AuditSummary, summarise
from dealgate.report.figures import amounts_json
from dealgate.report.json_report import deal_json


def summary_json(summary: AuditSummary) -> dict[str, Any]:
    return {
        "deals_audited": summary.deals_audited,
        "deals_with_skipped_milestones": summary.deals_with_skipped,
        "deals_at_risk": summary.deals_at_risk,
        "pipeline_claimed": amounts_json(summary.claimed),
        "pipeline_at_risk": amounts_json(summary.at_risk),
        "by_stage": [
            {
                "stage_id": s.stage_id,
                "name": s.name,
                "deals": s.deals,
                "deals_at_risk": s.deals_at_risk,
                "claimed": amounts_json(s.claimed),
                "at_risk": amounts_json(s.at_risk),
            }
            for s in summary.by_stage
        ],
        "by_owner": [
            {
                "manager": o.manager,
                "owner": o.owner,
                "deals": o.deals,
                "deals_with_skipped_milestones": o.deals_with_skipped,
                "deals_at_risk": o.deals_at_risk,
                "missing_required": o.missing_required,
                "claimed": amounts_json(o.claimed),
                "at_risk": amounts_json(o.at_risk),
            }
            for o in summary.by_owner
        ],
        "top_missing": [
            {
                "milestone_id": m.milestone_id,
                "milestone": m.milestone,
                "kind": m.kind,
                "deals": m.deals,
            }
            for m in summary.top_missing
        ],
        "data_findings": summary.data_findings,
    }


def audit_json(result: AuditResult, include_met: bool) -> dict[str, Any]:
    """The audit's JSON shape (DESIGN.md), with the summary and the reconciliation."""
    return {
        "as_of": result.as_of.isoformat(),
        "pack": {"id": result.pack.id, "title": result.pack.title},
        "engine": result.engine,
        "input": {"file": result.file, "profile": result.profile},
        "summary": summary_json(summarise(result)),
        "reconciliation": result.reconciliation.as_json(),
        "deals": [deal_json(a, include_met=include_met) for a in result.exceptions(include_met)],
        "rejected_rows": [
            {"file": row.file, "row": row.row, "path": row.path, "reason": row.reason}
            for row in result.rejected
        ],
        "data_findings": [finding.as_json() for finding in result.data_findings],
        "waivers": [
            finding.as_json() | {"deal": finding.deal_id} for finding in result.waiver_findings
        ],
    }


def render_json(result: AuditResult, include_met: bool) -> str:
    return json.dumps(audit_json(result, include_met), indent=2) + "\n"


def render_jsonl(result: AuditResult, include_met: bool) -> str:
    return "".join(jsonl_lines(result, include_met))


def jsonl_lines(result: AuditResult, include_met: bool) -> Iterator[str]:
    """One deal per line, as in the JSON document's `deals`."""
    for assessment in result.exceptions(include_met):
        yield json.dumps(deal_json(assessment, include_met=include_met)) + "\n"
