"""Robust under hostile input (issue 14): an --output that names an input, a link, a pipe or a
device; SIGTERM and Ctrl-C at any moment; a crash that must not look like a finding; a report
the columnar route cannot write. Each runs the real command in its own process
(docs/reliability.md, "Outputs and crashes")."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from command import REPO, dealgate

EXAMPLES = REPO / "examples"
EXPORT = EXAMPLES / "salesforce-opportunities.csv"
AS_OF = ("--as-of", "2026-11-27", "--fail-on", "never")
OLD_REPORT = "the report of last week\n"


def _copy(name: str, folder: Path) -> Path:
    copied = folder / name
    shutil.copyfile(EXAMPLES / name, copied)
    return copied


def _temporaries(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.rglob(".*.tmp"))


# --- 1. --output naming an input -----------------------------------------------------------


@pytest.mark.parametrize(
    "option", ["export", "--contacts", "--teams", "--waivers", "--baseline", "--mapping"]
)
def test_output_naming_an_input_is_refused_before_any_work(tmp_path: Path, option: str) -> None:
    export = _copy("salesforce-opportunities.csv", tmp_path)
    inputs = {
        "--contacts": _copy("salesforce-contact-roles.csv", tmp_path),
        "--teams": _copy("teams.csv", tmp_path),
        "--waivers": tmp_path / "waivers.yaml",
        "--baseline": tmp_path / "last-week.json",
        "--mapping": tmp_path / "mapping.yaml",
    }
    inputs["--waivers"].write_text("waivers: []\n", encoding="utf-8")
    inputs["--baseline"].write_text("{}\n", encoding="utf-8")
    inputs["--mapping"].write_text("profile: canonical\n", encoding="utf-8")
    named = export if option == "export" else inputs[option]
    before = named.read_bytes()
    arguments = [] if option == "export" else [option, named.name]

    run = dealgate(
        "audit",
        export.name,
        *arguments,
        *AS_OF,
        "--format",
        "json",
        "--output",
        named.name,
        cwd=tmp_path,
    )

    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert f"--output {named.name} is" in lines[0] and "replace" in lines[0]
    assert named.read_bytes() == before
    assert _temporaries(tmp_path) == []


@pytest.mark.parametrize("engine", ["durable", "sql"])
def test_output_naming_a_side_table_the_mapping_joins_is_refused(
    tmp_path: Path, engine: str
) -> None:
    export = _copy("salesforce-opportunities.csv", tmp_path)
    (tmp_path / "side").mkdir()
    accounts = tmp_path / "side" / "accounts.csv"
    accounts.write_text("account,sector\nAcme,retail\n", encoding="utf-8")
    before = accounts.read_bytes()
    (tmp_path / "mapping.yaml").write_text(
        "mapping: joined\nprofile: salesforce\njoins:\n  - file: side/accounts.csv\n"
        "    on: {Account Name: account}\n    columns: {sector: sector}\n",
        encoding="utf-8",
    )
    # named another way than the mapping names it: through a link to its folder
    (tmp_path / "sides").symlink_to(tmp_path / "side")

    run = dealgate(
        "audit",
        export.name,
        *("--mapping", "mapping.yaml", *AS_OF, "--engine", engine),
        *("--format", "csv", "--output", "sides/accounts.csv"),
        cwd=tmp_path,
    )

    assert run.returncode == 2, run.stderr
    assert (
        "--output sides/accounts.csv is the side table 'side/accounts.csv' the mapping joins"
        in run.stderr
    )
    assert accounts.read_bytes() == before
    assert _temporaries(tmp_path) == []


@pytest.mark.parametrize("link", ["symbolic", "hard"])
def test_output_linked_to_the_export_is_refused(tmp_path: Path, link: str) -> None:
    export = _copy("salesforce-opportunities.csv", tmp_path)
    before = export.read_bytes()
    alias = tmp_path / "report.csv"
    if link == "symbolic":
        alias.symlink_to(export)
    else:
        os.link(export, alias)

    run = dealgate(
        "audit", export.name, *AS_OF, "--format", "csv", "--output", "report.csv", cwd=tmp_path
    )

    assert run.returncode == 2, run.stderr
    assert "--output report.csv is the export (salesforce-opportunities.csv)" in run.stderr
    assert export.read_bytes() == before


def test_report_refuses_to_replace_the_saved_audit(tmp_path: Path) -> None:
    saved = tmp_path / "audit.json"
    made = dealgate("audit", str(EXPORT), *AS_OF, "--format", "json", "--output", str(saved))
    assert made.returncode == 0, made.stderr
    before = saved.read_bytes()

    run = dealgate(
        "report", "audit.json", "--format", "json", "--output", "./audit.json", cwd=tmp_path
    )

    assert run.returncode == 2, run.stderr
    assert "--output audit.json is the saved audit (audit.json)" in run.stderr
    assert saved.read_bytes() == before


# --- 2. links, modes, pipes and devices ------------------------------------------------------


def test_a_symbolic_link_as_output_is_kept_and_its_target_written(tmp_path: Path) -> None:
    target = tmp_path / "reports" / "audit.csv"
    target.parent.mkdir()
    target.write_text(OLD_REPORT, encoding="utf-8")
    (tmp_path / "latest.csv").symlink_to(Path("reports") / "audit.csv")

    run = dealgate(
        "audit", str(EXPORT), *AS_OF, "--format", "csv", "--output", "latest.csv", cwd=tmp_path
    )

    assert run.returncode == 0, run.stderr
    assert (tmp_path / "latest.csv").is_symlink()
    assert target.read_text(encoding="utf-8").startswith("deal_id,")
    assert _temporaries(tmp_path) == []


@pytest.mark.parametrize("engine", ["durable", "sql"])
def test_a_loop_of_symbolic_links_as_output_is_a_write_error(tmp_path: Path, engine: str) -> None:
    (tmp_path / "one.csv").symlink_to("two.csv")
    (tmp_path / "two.csv").symlink_to("one.csv")

    run = dealgate(
        "audit",
        str(EXPORT),
        *AS_OF,
        "--engine",
        engine,
        "--format",
        "csv",
        "--output",
        "one.csv",
        cwd=tmp_path,
    )

    assert run.returncode == 2, run.stderr
    assert "error: cannot write one.csv: Too many levels of symbolic links" in run.stderr


def test_an_existing_report_keeps_its_permission_bits(tmp_path: Path) -> None:
    report = tmp_path / "audit.csv"
    report.write_text(OLD_REPORT, encoding="utf-8")
    report.chmod(0o640)

    run = dealgate("audit", str(EXPORT), *AS_OF, "--format", "csv", "--output", str(report))

    assert run.returncode == 0, run.stderr
    assert stat.S_IMODE(report.stat().st_mode) == 0o640
    assert report.read_text(encoding="utf-8").startswith("deal_id,")


@pytest.mark.parametrize("engine", ["durable", "sql"])
def test_a_fifo_as_output_is_streamed_to_not_replaced(tmp_path: Path, engine: str) -> None:
    fifo = tmp_path / "report.pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def read() -> None:
        with fifo.open("rb") as stream:
            received.append(stream.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    run = dealgate(
        "audit", str(EXPORT), *AS_OF, "--engine", engine, "--format", "csv", "--output", str(fifo)
    )
    reader.join(timeout=60)

    assert run.returncode == 0, run.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert received and received[0].startswith(b"deal_id,")
    assert _temporaries(tmp_path) == []


def _device(folder: Path, name: str, minor: int) -> Path:
    """A character device of the memory driver (3: null, 7: full) in folder, or a skip."""
    node = folder / name
    try:
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
    except (PermissionError, OSError) as error:
        pytest.skip(f"cannot make a device node here: {error}")
    return node


def test_a_character_device_as_output_is_written_to_not_replaced(tmp_path: Path) -> None:
    null = _device(tmp_path, "null", 3)

    run = dealgate("audit", str(EXPORT), *AS_OF, "--format", "json", "--output", str(null))

    assert run.returncode == 0, run.stderr
    assert stat.S_ISCHR(null.lstat().st_mode)
    assert _temporaries(tmp_path) == []


# --- 3. SIGTERM while writing -----------------------------------------------------------------


def test_sigterm_while_writing_removes_the_temporary_and_keeps_the_old_report(
    tmp_path: Path,
) -> None:
    lines = EXPORT.read_text(encoding="utf-8-sig").splitlines()
    export = tmp_path / "pipeline.csv"
    export.write_text("\n".join([lines[0], *lines[1:] * 5]) + "\n", encoding="utf-8")
    report = tmp_path / "audit.json"
    command = [sys.executable, "-m", "dealgate", "audit", str(export), *AS_OF]
    command += ["--format", "json", "--output", str(report)]
    for _attempt in range(3):  # the signal is sent once the temporary file exists
        report.write_text(OLD_REPORT, encoding="utf-8")
        process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
        while process.poll() is None and not _temporaries(tmp_path):
            time.sleep(0.002)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=120)
        if process.returncode != 0:  # 0: it finished before the signal; try again
            break
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert "Traceback" not in stderr
    assert _temporaries(tmp_path) == []
    assert report.read_text(encoding="utf-8") == OLD_REPORT


# --- 4. crashes and Ctrl-C ------------------------------------------------------------------


def test_an_internal_error_exits_3_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    environment = {**os.environ, "DEALGATE_TEST_CRASH": "1"}
    command = [sys.executable, "-m", "dealgate", "audit", str(EXPORT), *AS_OF]

    quiet = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
    verbose = subprocess.run(
        [*command, "-v"], capture_output=True, text=True, env=environment, check=False
    )

    assert quiet.returncode == 3, quiet.stderr
    lines = quiet.stderr.strip().splitlines()
    assert len(lines) == 1, quiet.stderr
    assert lines[0].startswith("dealgate: internal error (RuntimeError: DEALGATE_TEST_CRASH")
    assert f"while running 'audit {EXPORT}" in lines[0]
    assert "-v shows the traceback" in lines[0]
    assert verbose.returncode == 3
    assert "Traceback (most recent call last)" in verbose.stderr
    assert verbose.stderr.strip().splitlines()[-1].startswith("dealgate: internal error")


def test_dealgate_debug_shows_the_traceback_of_an_internal_error() -> None:
    environment = {**os.environ, "DEALGATE_TEST_CRASH": "1", "DEALGATE_DEBUG": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "dealgate", "rules", "list"],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    assert run.returncode == 3
    assert "Traceback (most recent call last)" in run.stderr


@pytest.mark.parametrize("delay", [0.05, 0.2, 1.0])
def test_ctrl_c_during_start_up_exits_130_without_a_traceback(delay: float, tmp_path: Path) -> None:
    # `python -m dealgate`, started once Python handles SIGINT and has found the package (it
    # says 'ready'): 50 ms on, the signal lands among the imports of the command line
    # (typer, rich, the rules), which take several hundred; at 1 s, in the audit, of the
    # example's rows forty times over so that it is still running on an idle machine.
    header, *rows = EXPORT.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    export = tmp_path / "large.csv"
    export.write_text(header + "".join(rows * 40), encoding="utf-8")
    start = (
        "import dealgate, runpy, sys; sys.argv = ['dealgate', *sys.argv[1:]]; "
        "sys.stderr.write('ready\\n'); sys.stderr.flush(); "
        "runpy.run_module('dealgate', run_name='__main__', alter_sys=True)"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", start, "audit", str(export), *AS_OF, "--format", "json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    assert process.stderr.readline() == "ready\n"
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    stderr = process.stderr.read()
    process.wait(timeout=60)

    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr


# --- 5. the columnar route cannot write the report ------------------------------------------


def _columnar(output: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return dealgate(
        "audit",
        str(EXPORT),
        *AS_OF,
        "--engine",
        "sql",
        "--format",
        "csv",
        "--output",
        output,
        "-v",
        cwd=cwd,
    )


def test_columnar_output_under_a_regular_file_fails_at_once_with_exit_2(tmp_path: Path) -> None:
    (tmp_path / "reports").write_text("a file, not a folder\n", encoding="utf-8")

    run = _columnar("reports/audit.csv", tmp_path)

    assert run.returncode == 2, run.stderr
    assert "error: cannot write reports/audit.csv: Not a directory" in run.stderr
    assert "columnar path not taken" not in run.stderr
    assert "Traceback" not in run.stderr


def test_columnar_output_on_a_full_device_fails_with_exit_2(tmp_path: Path) -> None:
    full = _device(tmp_path, "full", 7)

    run = _columnar("full", tmp_path)

    assert run.returncode == 2, run.stderr
    assert "error: cannot write full: No space left on device" in run.stderr
    assert stat.S_ISCHR(full.lstat().st_mode)
    assert "columnar path not taken" not in run.stderr


def test_columnar_output_on_a_full_disk_is_not_rerun_on_the_python_route(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(disk)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root in a capable container)")
    try:
        run = _columnar("disk/audit.csv", tmp_path)  # the report is 33 KB
        left = sorted(path.name for path in disk.iterdir())
    finally:
        subprocess.run(["umount", str(disk)], check=False)

    assert run.returncode == 2, run.stderr
    assert "error: cannot write disk/audit.csv: No space left on device" in run.stderr
    assert "columnar path not taken" not in run.stderr  # no second audit, on the Python route
    assert left == []


# --- 6. standard output closed early (`dealgate audit x.csv | head`) -------------------------


def _stderr_of_a_run_to_the_end(command: list[str]) -> str:
    run = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return run.stderr


@pytest.mark.parametrize(
    "arguments",
    [
        ["audit", str(EXPORT), *AS_OF],  # the table, through rich
        ["audit", str(EXPORT), *AS_OF, "--format", "json"],
        ["audit", str(EXPORT), *AS_OF, "--format", "csv"],
        ["audit", str(EXPORT), *AS_OF, "--format", "csv", "--engine", "sql"],  # columnar
        ["rules", "list"],
    ],
    ids=["table", "json", "csv", "csv-columnar", "rules-list"],
)
def test_a_reader_gone_before_the_report_exits_141_and_says_nothing(arguments: list[str]) -> None:
    command = [sys.executable, "-m", "dealgate", *arguments]
    reading, writing = os.pipe()
    os.close(reading)  # the reader is gone before dealgate writes a byte
    try:
        run = subprocess.run(command, stdout=writing, stderr=subprocess.PIPE, text=True)
    finally:
        os.close(writing)

    assert run.returncode == 128 + signal.SIGPIPE, run.stderr
    # Nothing beyond what the same command says when its output is read to the end (some of
    # it, when the pipe closed first).
    assert _stderr_of_a_run_to_the_end(command).startswith(run.stderr)


def test_head_closing_the_pipe_midway_exits_141_without_a_traceback(tmp_path: Path) -> None:
    lines = EXPORT.read_text(encoding="utf-8-sig").splitlines()
    export = tmp_path / "pipeline.csv"
    export.write_text("\n".join([lines[0], *lines[1:] * 20]) + "\n", encoding="utf-8")
    command = [sys.executable, "-m", "dealgate", "audit", str(export), *AS_OF, "--format", "json"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    head = [process.stdout.readline() for _ in range(3)]  # what `| head -3` reads
    process.stdout.close()  # the report is far more than a pipe holds: dealgate is mid-write
    stderr = process.stderr.read().decode()
    process.wait(timeout=120)

    assert head[0].startswith(b"{")
    assert process.returncode == 128 + signal.SIGPIPE, stderr
    assert "Traceback" not in stderr
    assert "Exception ignored" not in stderr
    assert "Broken pipe" not in stderr


# --- 7. a signal during a long DuckDB query --------------------------------------------------


def _large_export(folder: Path, copies: int) -> Path:
    """The example export `copies` times over, each deal with an id of its own."""
    header, *rows = EXPORT.read_text(encoding="utf-8-sig").splitlines()
    export = folder / "large.csv"
    with export.open("w", encoding="utf-8") as stream:
        stream.write(header + "\n")
        for copy in range(copies):
            stream.writelines(
                f"D{copy:05d}{n:03d}{row[row.index(',') :]}\n" for n, row in enumerate(rows)
            )
    return export


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_columnar_audits_query_at_once(tmp_path: Path, signum: int) -> None:
    # 60,000 deals (68 MB): the columnar audit runs its DuckDB queries for several seconds.
    # Python's handlers wait for a query to end, and DuckDB's client checks for signals only
    # in some phases, raising RuntimeError (exit 3) instead: the query is interrupted now.
    export = _large_export(tmp_path, 200)
    report = tmp_path / "audit.csv"
    report.write_text(OLD_REPORT, encoding="utf-8")
    spill = tmp_path / "tmp"  # DuckDB's spill folder appears here as its connection opens
    spill.mkdir()
    start = (
        "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "sys.argv = ['dealgate', *sys.argv[1:]]; "
        "runpy.run_module('dealgate', run_name='__main__', alter_sys=True)"
    )
    command = [sys.executable, "-c", start, "audit", str(export), *AS_OF, "--engine", "sql"]
    command += ["--format", "csv", "--output", str(report)]
    process = subprocess.Popen(
        command, stderr=subprocess.PIPE, text=True, env={**os.environ, "TMPDIR": str(spill)}
    )
    while process.poll() is None and not any(spill.iterdir()):
        time.sleep(0.005)
    time.sleep(0.5)  # into the queries
    sent = time.monotonic()
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=120)
    waited = time.monotonic() - sent

    assert process.returncode == 128 + signum, stderr
    assert waited < 2, f"exited {waited:.1f} s after the signal"
    assert "Traceback" not in stderr and "internal error" not in stderr
    assert "columnar path not taken" not in stderr  # not run again on the Python route
    assert report.read_text(encoding="utf-8") == OLD_REPORT
    assert _temporaries(tmp_path) == []
    assert list(spill.iterdir()) == []  # the spill folder is removed
