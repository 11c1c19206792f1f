"""A resolved pack's content hash: the same for the same rules however the YAML is written,
different as soon as a rule that changes the judgement changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from dealgate.rules.catalog import PackCatalog
from dealgate.rules.loader import load_pack

PACK = """\
pack: team
title: Team pack
fields:
  pain: text
  security_review_done_on: date
stages:
  - id: qualify
    crm_names: [Qualification]
    exit:
      - id: QUAL-PAIN
        milestone: Pain confirmed
        require: present(pain)
        severity: required
  - id: propose
    crm_names: [Proposal]
    exit:
      - id: PROP-BIG
        milestone: Security review passed
        require: present(security_review_done_on)
        when: amount >= 50000
  - id: closed_won
    terminal: won
checks:
  - id: HYG-CLOSE
    milestone: Close date not past
    require: close_date >= today
"""

# The same pack: flow style, comments, quoting, key order, folded and spaced expressions.
REWRITTEN = """\
# The team's pack, reformatted by hand.
title: "Team pack"
pack: 'team'
fields: {security_review_done_on: date, pain: text}
stages:
  - {id: qualify, crm_names: ["Qualification"], exit: [{id: QUAL-PAIN, milestone: Pain confirmed,
      severity: required, require: "present( pain )"}]}
  - id: propose          # the proposal stage
    crm_names:
      - Proposal
    exit:
      - when: amount >= 50000.00
        require: >-
          present(security_review_done_on)
        milestone: Security review passed
        id: PROP-BIG
  - id: closed_won
    terminal: won
checks:
  - id: HYG-CLOSE
    milestone: "Close date not past"
    require: close_date   >=   today
"""


def pack_hash(folder: Path, text: str) -> str:
    folder.mkdir(exist_ok=True)
    (folder / "team.yaml").write_text(text, encoding="utf-8")
    return load_pack("team", PackCatalog([folder], include_bundled=False)).content_hash()


def test_the_hash_is_a_sha256_that_yaml_layout_does_not_change(tmp_path: Path) -> None:
    written = pack_hash(tmp_path / "a", PACK)
    assert len(written) == 64 and int(written, 16) >= 0
    assert pack_hash(tmp_path / "b", REWRITTEN) == written


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("require: present(pain)", "require: present(pain) and present(amount)"),
        ("require: close_date >= today", "require: close_date > today"),
        ("when: amount >= 50000", "when: amount >= 60000"),
        ("severity: required", "severity: recommended"),
        ("crm_names: [Proposal]", "crm_names: [Proposal, Quote]"),
        ("  pain: text", "  pain: number"),
        ("    terminal: won", "    terminal: lost"),
        ("milestone: Pain confirmed", "milestone: Pain confirmed by the buyer"),
        ("title: Team pack", "title: Team pack\nplaceholders: {keep: [tbd]}"),
        ("title: Team pack", "title: Team pack\nplaceholders: {add: [pending]}"),
    ],
)
def test_the_hash_changes_with_what_the_pack_says(tmp_path: Path, old: str, new: str) -> None:
    assert PACK.count(old) == 1
    changed = pack_hash(tmp_path / "b", PACK.replace(old, new))
    assert changed != pack_hash(tmp_path / "a", PACK)


def test_a_bundled_pack_hashes_alike_wherever_it_is_read_from(tmp_path: Path) -> None:
    bundled = load_pack("buyer-journey")
    folder = tmp_path / "copy"
    folder.mkdir()
    (folder / "buyer-journey.yaml").write_text(
        Path(bundled.source.file).read_text(encoding="utf-8"), encoding="utf-8"
    )
    copied = load_pack("buyer-journey", PackCatalog([folder], include_bundled=False))
    assert copied.source != bundled.source
    assert copied.content_hash() == bundled.content_hash()


def test_a_pack_that_leaves_placeholders_alone_keeps_the_hash_it_had_before_the_key(
    tmp_path: Path,
) -> None:
    # The hash of PACK before `placeholders:` existed: saved audits still match it.
    expected = "21bca600ba793235fb68124f123d57be441f543c301054fa2561d593edaf2f86"
    assert pack_hash(tmp_path / "a", PACK) == expected
