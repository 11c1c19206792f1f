"""docs/rules.md lists the fields each bundled pack reads; keep it in step with the packs.

Run `DEALGATE_UPDATE_DOCS=1 pytest tests/test_docs.py` to rewrite the generated section.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from dealgate.deals.profiles import BUILT_IN, columns_markdown
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
