"""The `dealgate rules ...` and `dealgate init` commands, run as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from command import dealgate
from dealgate import __version__
from dealgate.rules.catalog import PackCatalog, bundled_rules_dir, pack_files
from dealgate.rules.loader import load_pack
from dealgate.yamlsafe import read_yaml_file

BUNDLED_IDS = ("bant", "buyer-journey", "hubspot-default", "meddpicc", "salesforce-default")


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A folder without a rules/ of its own, so only the bundled packs are found."""
    return tmp_path


def test_version() -> None:
    result = dealgate("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"dealgate {__version__}"


def test_every_command_has_help() -> None:
    for command in (
        [],
        ["rules"],
        ["rules", "list"],
        ["rules", "show"],
        ["rules", "validate"],
        ["rules", "explain"],
        ["rules", "schema"],
        ["rules", "test"],
        ["init"],
    ):
        result = dealgate(*command, "--help")
        assert result.returncode == 0, command
        assert "Usage:" in result.stdout


def test_rules_list_shows_the_bundled_packs_as_valid(workdir: Path) -> None:
    result = dealgate("rules", "list", cwd=workdir)
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if "bundled" in line]
    assert sorted(row.split("│")[1].strip() for row in rows) == list(BUNDLED_IDS)
    assert all(" ok " in row for row in rows)


def test_rules_show_prints_the_resolved_tree(workdir: Path) -> None:
    pack = load_pack("salesforce-default", PackCatalog(cwd=workdir))
    result = dealgate("rules", "show", "salesforce-default", cwd=workdir)
    assert result.returncode == 0, result.stderr
    for stage in pack.open_stages:
        assert stage.name in result.stdout
    for milestone in pack.milestones():
        assert milestone.id in result.stdout


def test_rules_show_of_an_unknown_pack_exits_2_with_a_suggestion(workdir: Path) -> None:
    result = dealgate("rules", "show", "buyer-jorney", cwd=workdir)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "buyer-jorney: error: no rule pack 'buyer-jorney' (did you mean 'buyer-journey'?)"
    )


def test_usage_error_exits_2() -> None:
    result = dealgate("rules", "show", "--format", "pdf")
    assert result.returncode == 2
    assert "Invalid value" in result.stderr


def test_rules_explain_a_milestone(workdir: Path) -> None:
    pack = load_pack("buyer-journey", PackCatalog(cwd=workdir))
    milestone = next(m for m in pack.milestones() if m.guidance and m.when is None)
    result = dealgate("rules", "explain", milestone.id, cwd=workdir)
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert milestone.milestone in text
    assert " ".join(milestone.guidance.split())[:60] in text
    assert "Reads" in text


def test_rules_explain_finds_milestones_of_other_packs_and_suggests(workdir: Path) -> None:
    meddpicc = load_pack("meddpicc", PackCatalog(cwd=workdir))
    only_there = next(m.id for m in meddpicc.milestones())
    assert dealgate("rules", "explain", only_there, cwd=workdir).returncode == 0
    result = dealgate("rules", "explain", "NO-SUCH-MILESTONE", cwd=workdir)
    assert result.returncode == 2
    assert result.stderr.startswith("error: no milestone 'NO-SUCH-MILESTONE'")


def test_rules_schema_accepts_every_bundled_pack_and_rejects_a_typo() -> None:
    result = dealgate("rules", "schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    validator = jsonschema.Draft202012Validator(schema)
    for path in pack_files(bundled_rules_dir()):
        errors = list(validator.iter_errors(read_yaml_file(path).value))
        assert errors == [], (path, errors[:1])
    broken = {"pack": "x", "stages": [{"id": "qualify", "exitt": []}]}
    assert not validator.is_valid(broken)


def test_rules_validate_bundled_folder() -> None:
    result = dealgate("rules", "validate", str(bundled_rules_dir()))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("ok ") == len(BUNDLED_IDS)


def test_rules_validate_missing_path_exits_2(workdir: Path) -> None:
    result = dealgate("rules", "validate", "nowhere.yaml", cwd=workdir)
    assert result.returncode == 2
    assert result.stderr.strip() == "nowhere.yaml: error: no such file or folder"


def test_init_writes_a_starter_that_validates_and_whose_cases_are_valid(workdir: Path) -> None:
    result = dealgate("init", "--name", "acme", cwd=workdir)
    assert result.returncode == 0, result.stderr
    pack_text = (workdir / "rules" / "acme.yaml").read_text(encoding="utf-8")
    assert "extends: [buyer-journey]" in pack_text
    assert "overrides:" in pack_text and "crm_names:" in pack_text
    validate = dealgate("rules", "validate", "rules", cwd=workdir)
    assert validate.returncode == 0, validate.stderr
    listed = dealgate("rules", "list", cwd=workdir)
    assert "rules/acme.yaml" in listed.stdout
    tested = dealgate("rules", "test", "rules", cwd=workdir)
    assert tested.returncode == 0, tested.stderr
    assert (
        "PASS  A new deal in the first stage has none of its exit milestones yet" in tested.stdout
    )
    assert tested.stdout.strip().endswith("1 passed, 0 failed")


def test_init_refuses_to_overwrite(workdir: Path) -> None:
    assert dealgate("init", cwd=workdir).returncode == 0
    again = dealgate("init", cwd=workdir)
    assert again.returncode == 2
    assert "already exists; use --force" in again.stderr
    assert dealgate("init", "--force", cwd=workdir).returncode == 0


@pytest.mark.parametrize("base", ["meddpicc", "bant"])
def test_init_on_a_methodology_pack(workdir: Path, base: str) -> None:
    result = dealgate("init", "--name", "team", "--extends", base, cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert dealgate("rules", "validate", "rules", cwd=workdir).returncode == 0


def test_rules_test_reports_invalid_cases_with_positions(workdir: Path) -> None:
    tests = workdir / "rules" / "tests"
    tests.mkdir(parents=True)
    (tests / "cases.yaml").write_text(
        "pack: buyer-journey\nas_of: 2026-11-27\ncases:\n"
        "  - name: a\n    deal: {id: X, stage: Nowhere}\n    missing: [NOPE]\n",
        encoding="utf-8",
    )
    result = dealgate("rules", "test", "rules", cwd=workdir)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith(
        "rules/tests/cases.yaml:5:26: error: case 'a': stage 'Nowhere' is not a stage"
    )
    assert lines[1].startswith("rules/tests/cases.yaml:6:15: error: unknown milestone 'NOPE'")


def test_rules_test_on_the_bundled_cases() -> None:
    result = dealgate("rules", "test", str(bundled_rules_dir()))
    assert result.returncode == 0, result.stderr
    assert "FAIL" not in result.stdout
    assert result.stdout.strip().endswith("23 passed, 0 failed")


def test_a_failing_case_shows_the_difference_and_exits_1(workdir: Path) -> None:
    tests = workdir / "rules" / "tests"
    tests.mkdir(parents=True)
    (tests / "cases.yaml").write_text(
        "pack: buyer-journey\nas_of: 2026-11-27\ncases:\n"
        "  - name: qualify deal with pain but no discovery meeting\n"
        "    deal:\n      id: X\n      stage: Qualification\n      pain: Month-end takes 9 days\n"
        "      pain_confirmed_by: Ada Ng, CFO\n"
        "      contacts: [{name: Ada Ng, title: CFO}]\n"
        "      close_date: 2027-01-31\n      next_step: Demo\n      next_step_date: 2026-12-01\n"
        "      last_activity_date: 2026-11-20\n"
        "    missing: [QUAL-PAIN]\n",
        encoding="utf-8",
    )
    result = dealgate("rules", "test", "rules", cwd=workdir)
    assert result.returncode == 1
    lines = [line.strip() for line in result.stdout.splitlines()]
    assert "FAIL  qualify deal with pain but no discovery meeting" in lines
    assert "+ QUAL-DISCOVERY-MEETING  missing, but not expected" in lines
    assert "- QUAL-PAIN  expected missing, but met or not applicable" in lines
    assert lines[-1] == "0 passed, 1 failed"


TEAM_PACK_WITH_SLIPS = """\
pack: acme
extends: [buyer-journey]
stages:
  - id: propse
    exit:
      - id: ACME-SECURITY
        milestone: Security review passed
        require: present(security_review_done_on)
        when: amout >= 50000
        guidence: Send the security pack when the buyer shortlists us.
checks:
  - id: ACME-COMMIT
    milestone: Commit deals have a verbal yes
    when: forecast_category == 'commit'
    require: present(verbal_commit_on)
"""


def test_validate_of_a_team_pack_with_slips_reports_every_one_in_one_run(workdir: Path) -> None:
    rules = workdir / "rules"
    rules.mkdir()
    (rules / "acme.yaml").write_text(TEAM_PACK_WITH_SLIPS, encoding="utf-8")
    result = dealgate("rules", "validate", "rules", cwd=workdir)
    assert result.returncode == 2
    assert "ok" not in result.stdout
    assert result.stderr.splitlines() == [
        "rules/acme.yaml:4:9: error: stage 'propse' is not in buyer-journey, and a new stage "
        "needs 'after: STAGE_ID' (did you mean 'propose'?)",
        "rules/acme.yaml:9:15: error: unknown field 'amout' (did you mean 'amount'?)",
        "rules/acme.yaml:10:9: error: unknown key 'guidence' (did you mean 'guidance'?)",
        "rules/acme.yaml:14:32: error: 'commit' is never a forecast category after reading "
        "(did you mean 'Commit'?)",
        "1 of 1 pack file has errors",
    ]


def test_a_team_pack_adds_a_stage_by_saying_where(workdir: Path) -> None:
    rules = workdir / "rules"
    rules.mkdir()
    (rules / "acme.yaml").write_text(
        "pack: acme\nextends: [buyer-journey]\nstages:\n"
        "  - id: security_review\n    after: propose\n    crm_names: [Security Review]\n",
        encoding="utf-8",
    )
    result = dealgate("rules", "validate", "rules", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert "pack acme, 7 stages" in result.stdout
    shown = dealgate("rules", "show", "rules/acme.yaml", cwd=workdir)
    assert shown.stdout.index("propose") < shown.stdout.index("security_review")
    assert shown.stdout.index("security_review") < shown.stdout.index("negotiate")
