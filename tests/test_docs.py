"""docs/rules.md lists the fields each bundled pack reads; keep it in step with the packs.

Run `DEALGATE_UPDATE_DOCS=1 pytest tests/test_docs.py` to rewrite the generated section.
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

import pytest

from dealgate.deals.profiles import BUILT_IN, columns_markdown
from dealgate.deals.readers import RawRecord
from dealgate.deals.source import read_records
from dealgate.engines import get_engine
from dealgate.errors import InputError
from dealgate.judging.assess import assess, request_for
from dealgate.playbook import fields_markdown
from dealgate.rules.catalog import PackCatalog
from dealgate.rules.loader import load_pack

ROOT = Path(__file__).resolve().parent.parent
RULES_DOC = ROOT / "docs" / "rules.md"
MAPPING_DOC = ROOT / "docs" / "crm-mapping.md"
DOCUMENTED_PACKS = ("buyer-journey", "salesforce-default", "hubspot-default", "meddpicc", "bant")
SECTION = re.compile(r"(<!-- fields:start -->\n)(.*?)(<!-- fields:end -->)", re.DOTALL)
PROFILES = re.compile(r"(<!-- profiles:start -->\n)(.*?)(<!-- profiles:end -->)", re.DOTALL)


def _generated() -> str:
    catalog = PackCatalog(include_bundled=True, cwd=ROOT / "docs")
    parts = []
    for pack_id in DOCUMENTED_PACKS:
        pack = load_pack(pack_id, catalog)
        parts.append(f"### `{pack.id}`: {pack.title}\n\n{fields_markdown(pack)}")
    return "\n".join(parts)


def test_fields_read_by_bundled_packs_are_documented() -> None:
    text = RULES_DOC.read_text(encoding="utf-8")
    generated = _generated()
    if os.environ.get("DEALGATE_UPDATE_DOCS"):
        text = SECTION.sub(lambda match: match[1] + generated + match[3], text)
        RULES_DOC.write_text(text, encoding="utf-8")
    section = SECTION.search(text)
    assert section is not None
    assert section[2] == generated, "run DEALGATE_UPDATE_DOCS=1 pytest tests/test_docs.py"


def test_headers_each_profile_recognises_are_documented() -> None:
    generated = "\n".join(
        f"### {profile.title}\n\n{columns_markdown(profile)}" for profile in BUILT_IN.values()
    )
    text = MAPPING_DOC.read_text(encoding="utf-8")
    if os.environ.get("DEALGATE_UPDATE_DOCS"):
        text = PROFILES.sub(lambda match: match[1] + generated + match[3], text)
        MAPPING_DOC.write_text(text, encoding="utf-8")
    section = PROFILES.search(text)
    assert section is not None
    assert section[2] == generated, "run DEALGATE_UPDATE_DOCS=1 pytest tests/test_docs.py"


EXAMPLE = re.compile(r"<!-- example:vague-next-step -->\n```yaml\n(.*?)```", re.DOTALL)


@pytest.mark.parametrize("engine_name", ["durable", "sql"])
def test_vague_next_step_example_in_the_docs_flags_vague_next_steps(
    engine_name: str, tmp_path: Path
) -> None:
    found = EXAMPLE.search(RULES_DOC.read_text(encoding="utf-8"))
    assert found is not None, "the vague next step example is gone from docs/rules.md"
    pack_file = tmp_path / "next-steps.yaml"
    pack_file.write_text(found[1], encoding="utf-8")
    pack = load_pack(pack_file, PackCatalog(include_bundled=False, cwd=tmp_path))
    next_steps = {
        "V1": ("Follow up", "discover", "2026-11-20"),
        "V2": ("Touch base with CFO next week", "discover", "2026-11-20"),
        "V3": ("Waiting on them to come back", "discover", "2026-11-20"),
        "S1": ("Send MSA redline to their legal by Friday", "negotiate", "2026-11-01"),
        "S2": ("Schedule the security review with IT", "propose", "2026-11-01"),
        "M1": (None, "propose", None),
    }
    records = [
        RawRecord(
            index,
            deal_id,
            {"id": deal_id, "stage": stage, "next_step": text, "last_activity_date": day},
        )
        for index, (deal_id, (text, stage, day)) in enumerate(next_steps.items(), start=1)
    ]
    reads, _ = read_records("docs", records, pack)
    statuses = {}
    for evaluated in get_engine(engine_name).evaluate(
        pack, [request_for(read, pack) for read in reads], date(2026, 11, 27)
    ):
        for finding in assess(pack, evaluated).findings:
            statuses[(evaluated.request.read.deal.id, finding.milestone_id)] = finding.status.value
    specific = {deal: statuses[(deal, "HYG-NEXT-STEP-SPECIFIC")] for deal in next_steps}
    assert specific == {
        "V1": "missing",
        "V2": "missing",
        "V3": "missing",
        "S1": "met",
        "S2": "met",
        "M1": "missing",
    }
    # 26 days without activity: within discover's 30 days, past negotiate's 14.
    recent = {deal: statuses[(deal, "HYG-ACTIVITY-BY-STAGE")] for deal in ("V1", "S1", "S2")}
    assert recent == {"V1": "met", "S1": "missing", "S2": "missing"}


def test_by_stage_in_an_unquoted_yaml_value_asks_to_quote_it(tmp_path: Path) -> None:
    # `stage: value` inside a plain YAML value is read as a key: say what to do about it.
    pack_file = tmp_path / "limits.yaml"
    pack_file.write_text(
        "pack: limits\nstages:\n  - id: discover\nchecks:\n"
        "  - id: HYG-RECENT\n    milestone: Recent activity\n"
        "    require: days_since(last_activity_date) <= by_stage(discover: 30, else: 14)\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as caught:
        load_pack(pack_file, PackCatalog(include_bundled=False, cwd=tmp_path))
    [problem] = caught.value.problems
    assert problem.message.startswith("invalid YAML: mapping values are not allowed")
    assert problem.hint == "quote a condition with by_stage(stage: value), or fold it with '>-'"
