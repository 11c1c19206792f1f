"""The README's two fresh-machine commands stay true: CI runs the test command verbatim."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```sh\n(.+?)\n```", text)


def test_readme_opens_with_a_main_job_command_and_a_test_command() -> None:
    main_job, test_command = _readme_commands()[:2]
    assert main_job.startswith("python3 -m venv .venv && .venv/bin/pip install -e . && ")
    assert ".venv/bin/dealgate " in main_job
    assert test_command.endswith(".venv/bin/pytest")


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    test_command = _readme_commands()[1]
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test_command in ci_lines


def test_the_test_command_type_checks_the_package_and_the_benchmarks() -> None:
    """`mypy --strict` with no paths reads [tool.mypy] files; naming a path would drop the rest."""
    import tomllib

    test_command = _readme_commands()[1]
    assert " .venv/bin/mypy --strict && " in test_command
    mypy = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert mypy["files"] == ["src", "benchmarks"]
    assert (ROOT / "src" / "dealgate" / "py.typed").is_file()  # users' mypy reads our types


def test_the_readme_rule_pack_validates(tmp_path: Path) -> None:
    from dealgate.rules.catalog import PackCatalog
    from dealgate.rules.loader import load_pack

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    example = re.search(r"## A rule pack\n\n```yaml\n(.+?)```", text, re.DOTALL)
    assert example is not None
    (tmp_path / "acme.yaml").write_text(example[1], encoding="utf-8")
    pack = load_pack(tmp_path / "acme.yaml", PackCatalog([tmp_path], cwd=tmp_path))
    assert pack.milestone("ACME-SECURITY").stage_id == "propose"
    assert pack.milestone("HYG-ACTIVITY").severity == "recommended"


def test_the_readme_report_commands_run_cleanly_one_after_another(tmp_path: Path) -> None:
    """A reader pastes the pre-forecast block: each command exits 0 and writes its file."""
    import shlex

    from command import dealgate

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## The pre-forecast report\n.+?```sh\n(.+?)```", text, re.DOTALL)
    assert block is not None
    for line in block[1].splitlines():
        program, *args = shlex.split(line)
        assert program == ".venv/bin/dealgate"
        args = [str(ROOT / arg) if arg.startswith("examples/") else arg for arg in args]
        run = dealgate(*args, cwd=tmp_path)
        assert run.returncode == 0, (line, run.stderr)
        assert (tmp_path / args[args.index("--output") + 1]).is_file()
