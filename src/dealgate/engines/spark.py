"""The Spark engine: the SQL engine's query, compiled for Spark SQL, run on a Spark session.

The deals go to Spark as the same Arrow table the SQL engine gives DuckDB (one column per field
read, nested lists of structs, dates, doubles, the stage position and the row number), are
registered as a temporary view, and the one query gives a status per milestone per deal. Spark
runs only SQL here, no Python code, so a cluster's executors need no dealgate.

pyspark is imported only when this engine is used. A session starts on the first evaluation
(several seconds: a JVM starts) and is kept for later ones; `close` stops it.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterable, Iterator
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from dealgate.engines.base import (
    ApplicableMilestones,
    DealOutcomes,
    DealRequest,
    EngineUnavailable,
    deal_values,
)
from dealgate.engines.sql import (
    BATCH,
    EngineError,
    columns_read,
    compile_query,
    deals_table,
    outcomes_from_statuses,
)
from dealgate.rules.model import RulePack

LOCAL = "local[*]"
JAVA = 17  # the oldest Java that Spark 4 runs on
INSTALL = "pip install 'dealgate[spark]' and Java 17 or later (JAVA_HOME, or java on the PATH)"
_SESSION_CONFIG = {
    "spark.app.name": "dealgate",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "1",  # one sort of a batch of deals; 200 is for big data
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}
# What spark-submit accepts; anything else makes it print a Java stack trace.
_MASTER = re.compile(
    r"local(\[(\*|\d+)(,\s*\d+)?\])?$|local-cluster\[.+\]$|spark://.+|yarn$|k8s://.+"
)
# pyspark logs every failed query on these (as JSON, with a stack trace) before raising;
# the engine reports the error itself.
_QUERY_LOGGERS = ("SQLQueryContextLogger", "DataFrameQueryContextLogger")


class SparkEngine:
    """Evaluates deals in batches with one Spark SQL query per batch."""

    name = "spark"

    def __init__(self, master: str | None = None, session: Any = None) -> None:
        """`master` is a Spark master URL (default `local[*]`); `session`, an existing
        SparkSession to use instead of starting one (it is then never stopped here)."""
        self.master = master or LOCAL
        if not _MASTER.match(self.master):
            raise EngineUnavailable(
                f"'{self.master}' is not a Spark master URL "
                "(local[*], local[N], spark://host:port, yarn or k8s://host:port)"
            )
        self._session = session
        self._owns_session = session is None
        if session is None:
            _check_pyspark()
            _check_java()

    def evaluate(
        self, pack: RulePack, requests: Iterable[DealRequest], as_of: date
    ) -> Iterator[DealOutcomes]:
        from py4j.protocol import Py4JError
        from pyspark.errors import PySparkException

        session = self.session
        # A view of its own, so that engines sharing a session never read each other's deals.
        view = f"dealgate_deals_{uuid.uuid4().hex}"
        query = compile_query(pack, as_of, table=view, dialect="spark").sql(dialect="spark")
        columns = columns_read(pack)
        milestones = [m.id for m in pack.milestones()]
        applicable = ApplicableMilestones(pack)
        iterator = iter(requests)
        try:
            while batch := list(itertools.islice(iterator, BATCH)):
                values = [deal_values(request.read, pack) for request in batch]
                try:
                    session.createDataFrame(deals_table(values, columns)).createOrReplaceTempView(
                        view
                    )
                    statuses = session.sql(query).toArrow()
                except (PySparkException, Py4JError) as error:
                    raise EngineError(
                        f"the spark engine failed on pack {pack.id}: {_first_line(error)}"
                    ) from None
                rows = zip(*(column.to_pylist() for column in statuses.columns), strict=True)
                yield from outcomes_from_statuses(batch, values, rows, milestones, applicable)
        finally:
            # A session that stopped took its views with it.
            with contextlib.suppress(PySparkException, Py4JError):
                session.catalog.dropTempView(view)

    def close(self) -> None:
        """Stop the Spark session this engine started (one it was given is left running)."""
        if self._owns_session and self._session is not None:
            self._session.stop()
            self._session = None

    @property
    def session(self) -> Any:
        """The Spark session, started on first use (pyspark's builder reuses one that this
        process already has)."""
        if self._session is None:
            self._session = _start_session(self.master)
        return self._session


def _start_session(master: str) -> Any:
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException
    from pyspark.logger import PySparkLogger
    from pyspark.sql import SparkSession

    for name in _QUERY_LOGGERS:
        PySparkLogger.getLogger(name).setLevel(logging.CRITICAL + 1)
    builder = SparkSession.builder.master(master)
    for key, value in _SESSION_CONFIG.items():
        builder = builder.config(key, value)
    log_config = Path(str(resources.files("dealgate.engines") / "spark-log4j2.properties"))
    builder = builder.config(
        "spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={log_config.as_uri()}"
    )
    try:
        return builder.getOrCreate()
    except (PySparkException, Py4JError, OSError) as error:
        java_exited = "JAVA_GATEWAY_EXITED" in str(error)
        hint = f" (Java did not start; the spark engine needs {INSTALL})" if java_exited else ""
        raise EngineError(
            f"the spark engine could not start a Spark session on {master}: "
            f"{_first_line(error)}{hint}"
        ) from None


def _first_line(error: BaseException) -> str:
    """The message without the SQL excerpt or JVM stack trace Spark appends to it; for an
    error py4j relays from Java, the Java exception (py4j's own first line names a method)."""
    lines = str(error).strip().splitlines()
    if lines and lines[0].startswith("An error occurred while calling"):
        relayed = [line[2:] for line in lines[1:] if line.startswith(": ")]
        return relayed[0] if relayed else lines[0]
    return lines[0] if lines else type(error).__name__


def _check_pyspark() -> None:
    try:
        import pyspark
    except ImportError:
        raise EngineUnavailable(f"the spark engine needs pyspark 4: {INSTALL}") from None
    major = pyspark.__version__.split(".")[0]
    if not major.isdigit() or int(major) < 4:
        raise EngineUnavailable(
            f"the spark engine needs pyspark 4, found {pyspark.__version__}: {INSTALL}"
        )


def _check_java() -> None:
    """Java must be there before pyspark tries to start it, or its error says only that the
    gateway exited."""
    home = os.environ.get("JAVA_HOME")
    java = os.path.join(home, "bin", "java") if home else shutil.which("java")
    if java is None or not os.access(java, os.X_OK):
        where = f"JAVA_HOME={home} has no bin/java" if home else "no java on the PATH"
        raise EngineUnavailable(f"the spark engine needs Java {JAVA} or later ({where}): {INSTALL}")
    try:
        shown = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=60, check=False
        ).stderr
    except (OSError, subprocess.SubprocessError):
        return  # pyspark reports it when it starts Java
    found = re.search(r'version "(\d+)(?:\.(\d+))?', shown)
    if found is None:
        return
    major = int(found[2]) if found[1] == "1" and found[2] else int(found[1])  # 1.8 is Java 8
    if major < JAVA:
        raise EngineUnavailable(
            f"the spark engine needs Java {JAVA} or later, {java} is Java {major}: {INSTALL}"
        )
