"""Shared fixtures: a throwaway PostgreSQL server and an engine that audits deals on it; one
Spark session for the whole test run (a JVM takes several seconds to start)."""

from __future__ import annotations

import glob
import itertools
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from dealgate.engines import EngineUnavailable, get_engine
from dealgate.engines.base import ApplicableMilestones, DealOutcomes, DealRequest, deal_values
from dealgate.engines.spark import SparkEngine
from dealgate.engines.sql import columns_read, deal_outcomes, query_sql, schema_sql, table_row
from dealgate.rules.model import RulePack

SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres")
INITDB_OPTIONS = ("--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync")
INSERT_DEAL = "INSERT INTO deals SELECT * FROM json_populate_record(NULL::deals, %s::json)"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "spark: runs the spark engine (a JVM; slowest)")
    config.addinivalue_line("markers", "browser: drives headless Chromium")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the slowest integration tests, so a CI run on another Python can leave them out
    (`-m "not spark and not browser"`, .ci/run): those that start Spark, by fixture or by an
    engine parameter, and those that open the report in a browser."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "spark_engine" in fixtures or "spark" in (
            params.get("engine"),
            params.get("engine_name"),
        ):
            item.add_marker(pytest.mark.spark)
        if "browser" in fixtures:
            item.add_marker(pytest.mark.browser)


def _server_programs() -> Path | None:
    """The folder of PostgreSQL's server programs: $DEALGATE_POSTGRES_BIN when set, else
    Debian's newest, or the one on PATH."""
    chosen = os.environ.get("DEALGATE_POSTGRES_BIN")
    if chosen is not None:
        found = all((Path(chosen) / program).is_file() for program in SERVER_PROGRAMS)
        return Path(chosen) if found else None
    folders = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda folder: (
            int(Path(folder).parent.name) if Path(folder).parent.name.isdigit() else 0
        ),
        reverse=True,
    )
    on_path = shutil.which("pg_ctl")
    if on_path:
        folders.append(str(Path(on_path).parent))
    for folder in folders:
        if all((Path(folder) / program).is_file() for program in SERVER_PROGRAMS):
            return Path(folder)
    return None


def running_in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(reason: str) -> None:
    """Fail in CI, where the server is installed by .ci/run; skip elsewhere, saying why."""
    if running_in_ci():
        pytest.fail(f"PostgreSQL tests cannot run: {reason}")
    pytest.skip(f"PostgreSQL tests skipped: {reason}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        pytest.fail(f"{what} failed ({done.returncode}): {done.stderr or done.stdout}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL cluster made for this test session in a temporary folder, listening on
    127.0.0.1; yields its connection string and is stopped and removed afterwards."""
    programs = _server_programs()
    if programs is None:
        _unavailable("no initdb/pg_ctl/postgres (on Debian: apt-get install postgresql)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("the psycopg driver is not installed (pip install -e '.[test]')")
    assert programs is not None
    folder = Path(tempfile.mkdtemp(prefix="dealgate-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the server as an unprivileged user
        user = "postgres" if _user_exists("postgres") else "nobody"
        shutil.chown(folder, user=user)
        run_as = ["runuser", "-u", user, "--"]
    data = folder / "data"
    port = _free_port()
    _run(
        [*run_as, str(programs / "initdb"), "-D", str(data), "-U", "postgres", *INITDB_OPTIONS],
        "initdb",
    )
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    pg_ctl = [*run_as, str(programs / "pg_ctl"), "-D", str(data)]
    _run([*pg_ctl, "-l", str(folder / "server.log"), "-w", "-o", options, "start"], "pg_ctl start")
    try:
        yield f"host=127.0.0.1 port={port} user=postgres dbname=postgres"
    finally:
        subprocess.run([*pg_ctl, "-m", "fast", "-w", "stop"], capture_output=True, check=False)
        shutil.rmtree(folder, ignore_errors=True)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


class PostgresEngine:
    """Audits deals on PostgreSQL: each evaluation gets its own schema, made from
    `dealgate sql --schema --dialect postgres`, loaded with the deals' values, and the
    query of `dealgate sql --dialect postgres` run over it."""

    name = "postgres"
    _schemas = itertools.count()

    def __init__(self, connection_string: str) -> None:
        self.connection_string = connection_string

    def evaluate(
        self, pack: RulePack, requests: Iterable[DealRequest], as_of: date
    ) -> Iterator[DealOutcomes]:
        import psycopg

        batch = list(requests)
        values = [deal_values(request.read, pack) for request in batch]
        columns = columns_read(pack)
        milestones = [milestone.id for milestone in pack.milestones()]
        schema = f"audit_{next(self._schemas)}"
        with psycopg.connect(self.connection_string, autocommit=True) as connection:
            connection.execute(f"CREATE SCHEMA {schema}")
            try:
                connection.execute(f"SET search_path TO {schema}")
                connection.execute(schema_sql(pack, "postgres").encode())
                for index, deal in enumerate(values):
                    # PostgreSQL fills the typed row, composite arrays included, from JSON
                    connection.execute(
                        INSERT_DEAL,
                        [json.dumps(table_row(index, deal, columns), default=_json_value)],
                    )
                rows = connection.execute(query_sql(pack, as_of, "postgres").encode()).fetchall()
            finally:
                connection.execute(f"DROP SCHEMA {schema} CASCADE")
        applicable = ApplicableMilestones(pack)
        assert len(rows) == len(batch)
        for request, deal, row in zip(batch, values, rows, strict=True):
            yield deal_outcomes(request, deal, row, milestones, applicable)


def _json_value(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"no JSON for {value!r}")


@pytest.fixture(scope="session")
def postgres_engine(postgres_server: str) -> PostgresEngine:
    return PostgresEngine(postgres_server)


@pytest.fixture(scope="session")
def spark_engine() -> Iterator[SparkEngine]:
    """The spark engine on a local session, stopped when the tests end. Skipped where pyspark
    or Java is missing, except in CI, which must run it."""
    try:
        engine = get_engine("spark")
    except EngineUnavailable as error:
        if running_in_ci():
            pytest.fail(f"CI runs the spark engine, but it cannot run here: {error}")
        pytest.skip(f"spark engine not available here: {error}")
    assert isinstance(engine, SparkEngine)
    engine.session  # noqa: B018 - start Spark once, so later engines in this process share it
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def audited_examples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Both example exports audited as JSON, CSV, HTML and XLSX (tests/report_inputs.py)."""
    from report_inputs import EXAMPLES, audit_example

    folder = tmp_path_factory.mktemp("reports")
    return {name: audit_example(name, folder) for name in EXAMPLES}
