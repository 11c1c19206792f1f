"""A filter that names what the pipeline does not hold is refused, never a quiet green audit;
`check --id` finds a deal by its id or its name.

Issue 12: `--manager "Claire Dubios"` used to audit 0 deals and exit 0, so a weekly CI job
passed on a typo. Both audit routes are run: the Python readers with the durable engine, and
the columnar route (`--engine sql --format csv`: DuckDB reads and judges the CSV export).
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from command import dealgate
from dealgate.audit import AuditFilters, FailOn
from dealgate.columnar.audit import ColumnarRequest, run_columnar_audit
from dealgate.errors import UsageError
from dealgate.rules.loader import load_pack

AS_OF = "2026-11-27"
ROUTES = {
    "durable": ("--engine", "durable", "--format", "csv"),
    "columnar": ("--engine", "sql", "--format", "csv"),
}
HEADERS = ["Opportunity ID", "Opportunity Name", "Opportunity Owner", "Stage", "Amount"]
DEALS = [
    ["006S1", "Moorland billing", "Sophie Müller", "Needs Analysis", "40500"],
    ["006S2", "Moorland renewal", "Sophie Müller", "Closed Lost", "9000"],
    ["006B1", "Quantum fleet", "Ben Carter", "Negotiation/Review", "26928"],
    ["006P1", "Orbit analytics", "Paula Ortiz", "Closed Won", "12000"],  # only closed deals
]
TEAMS = [
    ["Owner", "Manager"],
    ["Sophie Müller", "Claire Dubois"],
    ["Ben Carter", "Luis Romero"],
    ["Paula Ortiz", "Jonah Feld"],
]


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as stream:
        csv.writer(stream).writerows(rows)
    return path


@pytest.fixture
def pipeline(tmp_path: Path) -> Path:
    _write(tmp_path / "teams.csv", TEAMS)
    return _write(tmp_path / "pipeline.csv", [HEADERS, *DEALS])


def _audit(route: str, folder: Path, *args: str) -> tuple[int, str, str]:
    ran = dealgate(
        "audit", "pipeline.csv", "--as-of", AS_OF, "--fail-on", "never", "-v",
        *ROUTES[route], *args, cwd=folder,
    )  # fmt: skip
    return ran.returncode, ran.stdout, ran.stderr


def _reported(stdout: str) -> set[str]:
    return {row["deal_id"] for row in csv.DictReader(stdout.splitlines())}


@pytest.mark.parametrize("route", list(ROUTES))
def test_an_owner_misspelt_without_its_accent_is_refused_with_the_files_spelling(
    route: str, pipeline: Path
) -> None:
    code, out, err = _audit(route, pipeline.parent, "--owner", "sophie muller")
    assert code == 2, err
    assert "--owner 'sophie muller' matches no deal in pipeline.csv" in err
    assert "did you mean 'Sophie Müller'?" in err
    assert out == ""  # no report of nothing


@pytest.mark.parametrize("route", list(ROUTES))
def test_an_owner_in_another_case_is_still_found(route: str, pipeline: Path) -> None:
    code, out, err = _audit(route, pipeline.parent, "--owner", "SOPHIE MÜLLER", "--include-met")
    assert code == 0, err
    assert _reported(out) == {"006S1"}
    assert "note:" not in err


@pytest.mark.parametrize("route", list(ROUTES))
def test_a_manager_typo_is_refused_with_did_you_mean(route: str, pipeline: Path) -> None:
    code, out, err = _audit(
        route, pipeline.parent, "--teams", "teams.csv", "--manager", "Claire Dubios"
    )
    assert code == 2, err
    assert "--manager 'Claire Dubios' matches no deal in pipeline.csv" in err
    assert "did you mean 'Claire Dubois'?" in err
    assert out == ""


@pytest.mark.parametrize("route", list(ROUTES))
def test_a_manager_filter_without_any_manager_data_is_refused(route: str, pipeline: Path) -> None:
    code, out, err = _audit(route, pipeline.parent, "--manager", "Claire Dubois")
    assert code == 2, err
    assert "no deal in pipeline.csv has a manager" in err
    assert "--teams" in err
    assert out == ""


@pytest.mark.parametrize("route", list(ROUTES))
def test_a_stage_no_deal_is_at_is_refused_naming_the_stages_there_are(
    route: str, pipeline: Path
) -> None:
    code, out, err = _audit(route, pipeline.parent, "--stage", "Proposal/Price Quote")
    assert code == 2, err
    assert "--stage 'propose' matches no deal in pipeline.csv" in err
    assert "its deals are at: discover, negotiate, closed_won, closed_lost" in err
    assert out == ""


@pytest.mark.parametrize("route", list(ROUTES))
def test_one_unknown_owner_among_known_ones_is_refused(route: str, pipeline: Path) -> None:
    code, _, err = _audit(route, pipeline.parent, "--owner", "Ben Carter", "--owner", "Ben Karter")
    assert code == 2, err
    assert "--owner 'Ben Karter' matches no deal" in err
    assert "'Ben Carter' matches" not in err


@pytest.mark.parametrize("route", list(ROUTES))
def test_an_owner_with_only_closed_deals_is_a_quiet_week_with_a_note(
    route: str, pipeline: Path
) -> None:
    code, out, err = _audit(
        route, pipeline.parent, "--owner", "paula ortiz", "--fail-on", "required"
    )
    assert code == 0, err
    assert ("reading: columnar" in err) == (route == "columnar"), err
    assert _reported(out) == set()
    assert "note: --owner 'paula ortiz' matched 1 deal in pipeline.csv, none open" in err
    closed = _audit(route, pipeline.parent, "--owner", "paula ortiz", "--include-closed")
    assert closed[0] == 0 and "note:" not in closed[2]


@pytest.mark.parametrize("route", list(ROUTES))
def test_a_closed_stage_without_include_closed_notes_its_deals(route: str, pipeline: Path) -> None:
    code, _, err = _audit(route, pipeline.parent, "--stage", "closed_won")
    assert code == 0, err
    assert "note: --stage 'closed_won' matched 1 deal in pipeline.csv, none open" in err


def test_the_columnar_route_refuses_the_value_itself(pipeline: Path) -> None:
    """Not by stepping aside for the Python route, which would read the whole file again."""
    asked = ColumnarRequest(
        pipeline=pipeline,
        pack=load_pack("buyer-journey"),
        as_of=date(2026, 11, 27),
        filters=AuditFilters(owners=("sophie muller",)),
        fail_on=FailOn.NEVER,
        teams=pipeline.parent / "teams.csv",
    )
    report = pipeline.parent / "report.csv"
    with pytest.raises(UsageError, match="did you mean 'Sophie Müller'"):
        run_columnar_audit(asked, report)
    assert not report.exists()


# -- check --id: the CRM id or the deal's name ---------------------------------------------


def _deals_file(folder: Path) -> Path:
    return _write(
        folder / "pipeline.csv",
        [
            HEADERS,
            ["006G1", "Globex renewal", "Jo Kim", "Needs Analysis", "100"],
            ["006G2", "Globex Renewal", "Jo Kim", "Qualification", "200"],
            ["006I1", "Initech rollout", "Jo Kim", "Qualification", "300"],
        ],
    )


def test_check_finds_a_deal_by_its_name_in_any_case(tmp_path: Path) -> None:
    _deals_file(tmp_path)
    ran = dealgate(
        "check", "pipeline.csv", "--id", "INITECH ROLLOUT", "--as-of", AS_OF, cwd=tmp_path
    )
    assert ran.returncode in (0, 1), ran.stderr
    assert "(006I1)" in ran.stdout


def test_check_by_a_name_several_deals_share_lists_their_ids(tmp_path: Path) -> None:
    _deals_file(tmp_path)
    ran = dealgate("check", "pipeline.csv", "--id", "globex renewal", cwd=tmp_path)
    assert ran.returncode == 2
    assert "2 deals in pipeline.csv are named 'globex renewal'" in ran.stderr
    assert "006G1, 006G2" in ran.stderr


def test_check_by_id_still_wins_and_a_near_miss_is_suggested(tmp_path: Path) -> None:
    _deals_file(tmp_path)
    ran = dealgate("check", "pipeline.csv", "--id", "006G2", "--as-of", AS_OF, cwd=tmp_path)
    assert ran.returncode in (0, 1) and "(006G2)" in ran.stdout
    missing = dealgate("check", "pipeline.csv", "--id", "Initech rolout", cwd=tmp_path)
    assert missing.returncode == 2
    assert "did you mean 'Initech rollout'?" in missing.stderr


def test_check_a_deal_file_without_an_id_says_so(tmp_path: Path) -> None:
    (tmp_path / "deal.yaml").write_text(
        "name: Globex\nstage: Qualification\nowner: Jo Kim\n", encoding="utf-8"
    )
    ran = dealgate("check", "deal.yaml", cwd=tmp_path)
    assert ran.returncode == 2
    assert "holds 0 deals" not in ran.stderr
    assert "no record in deal.yaml has a deal id (1 record read)" in ran.stderr
    assert "--id ID or --id NAME" in ran.stderr
