"""The audit as JUnit XML, for CI dashboards: a test suite per deal, a test case per milestone.

A milestone that fails the audit (skipped or hygiene, missing, at or above --fail-on) is a
failure; waived and not-applicable milestones are skipped test cases.

Written suite by suite, each indented as `ElementTree.indent` indents the whole tree, so an
audit that spools its suites as it judges (`JunitSpool`) writes the same bytes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable, Iterator
from typing import Any

from dealgate.audit import AuditResult, FailOn, failing_findings
from dealgate.findings import Status
from dealgate.judging.assess import DealAssessment
from dealgate.report.audit_json import TextSpool
from dealgate.rules.model import RulePack

_BETWEEN = "\n  "  # what follows a suite inside the indented root, but the last


def render_junit(result: AuditResult, include_met: bool, fail_on: FailOn) -> str:
    return "".join(junit_chunks(result, include_met, fail_on))


def junit_chunks(result: AuditResult, include_met: bool, fail_on: FailOn) -> Iterator[str]:
    """The XML, suite by suite (read back from the spool of an audit that wrote them as it
    judged, `JunitSpool`)."""
    streamed = result.streamed
    if streamed is not None and streamed.form == "junit":
        tests, failures = streamed.listed
        suites: Iterable[str] = streamed.deals()
    else:
        written = [_suite(a, result.pack.id, fail_on) for a in result.exceptions(include_met)]
        tests, failures = sum(w[1] for w in written), sum(w[2] for w in written)
        suites = [text for text, _, _ in written]
    root = ElementTree.Element("testsuites", name=f"dealgate audit {result.pack.id}")
    root.set("tests", str(tests))
    root.set("failures", str(failures))
    empty = ElementTree.tostring(root, encoding="unicode")  # <testsuites ... />
    yield '<?xml version="1.0" encoding="UTF-8"?>\n'
    body = _last_tail_cut(suites)
    first = next(body, None)
    if first is None:
        yield empty + "\n"
        return
    yield empty.removesuffix(" />") + ">" + _BETWEEN + first
    yield from body
    yield "\n</testsuites>\n"


def _last_tail_cut(chunks: Iterable[str]) -> Iterator[str]:
    """The suites' text without the tail of the last one (the root's end follows it)."""
    held = ""
    for chunk in chunks:
        text = held + chunk
        held = text[-len(_BETWEEN) :]
        if text[: -len(_BETWEEN)]:
            yield text[: -len(_BETWEEN)]
    if held and held != _BETWEEN:
        raise AssertionError("a spooled suite did not end as indented")


def _suite(assessment: DealAssessment, pack_id: str, fail_on: FailOn) -> tuple[str, int, int]:
    """A deal's test suite as it stands in the indented root, with its tail; its test cases
    and failures."""
    failing = {(f.milestone_id, f.kind) for f in failing_findings(assessment, fail_on)}
    deal = assessment.read.deal
    suite = ElementTree.Element("testsuite", name=f"{deal.id} {deal.name or ''}".strip())
    failures = 0
    for finding in assessment.findings:
        case = ElementTree.SubElement(
            suite,
            "testcase",
            classname=f"{pack_id}.{finding.kind.value}",
            name=f"{finding.milestone_id} {finding.milestone}".strip(),
        )
        if (finding.milestone_id, finding.kind) in failing:
            failure = ElementTree.SubElement(
                case, "failure", message=finding.milestone, type=finding.severity
            )
            read = ", ".join(f"{name}={value!r}" for name, value in finding.read)
            failure.text = f"read: {read}\nhow: {finding.guidance}"
            failures += 1
        elif finding.status in (Status.WAIVED, Status.NOT_APPLICABLE):
            ElementTree.SubElement(case, "skipped", message=finding.note or finding.status)
    suite.set("tests", str(len(assessment.findings)))
    suite.set("failures", str(failures))
    ElementTree.indent(suite, level=1)
    suite.tail = _BETWEEN
    return ElementTree.tostring(suite, encoding="unicode"), len(assessment.findings), failures


class JunitSpool(TextSpool):
    """A JUnit audit's test suites, written to a temporary file as the audit judges (the root,
    which counts them, is written with the report)."""

    def __init__(self, include_met: bool, fail_on: FailOn) -> None:
        super().__init__("junit", include_met, fail_on)
        self.tests = self.failures = 0

    def keep(self, assessment: DealAssessment, pack: RulePack) -> None:
        if not self.listed(assessment):
            return
        text, tests, failures = _suite(assessment, pack.id, self.fail_on)
        self.file.write(text)
        self.tests += tests
        self.failures += failures

    def shown(self) -> tuple[tuple[Any, ...], int]:
        return (self.tests, self.failures), 0  # the root's counts
