"""The JSON audit is written deal by deal (never the whole document in memory), and is byte
for byte what json.dumps writes of the whole document."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from dealgate.audit import AuditFilters, run_audit
from dealgate.deals.source import open_deals
from dealgate.engines import get_engine
from dealgate.report.audit_json import audit_json, audit_json_chunks
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
