"""The audit as JUnit XML, for CI dashboards: a test suite per deal, a test case per milestone.

A milestone that fails the audit (skipped or hygiene, missing, at or above --fail-on) is a
failure; waived and not-applicable milestones are skipped test cases.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

from dealgate.audit import AuditResult, FailOn
from dealgate.findings import Status


def render_junit(result: AuditResult, include_met: bool, fail_on: FailOn) -> str:
    failing = {(f.deal_id, f.milestone_id, f.kind) for f in result.failing(fail_on)}
    root = ElementTree.Element("testsuites", name=f"dealgate audit {result.pack.id}")
    total = failures = 0
    for assessment in result.exceptions(include_met):
        deal = assessment.read.deal
        suite = ElementTree.SubElement(
            root, "testsuite", name=f"{deal.id} {deal.name or ''}".strip()
        )
        suite_failures = 0
        for finding in assessment.findings:
            case = ElementTree.SubElement(
                suite,
                "testcase",
                classname=f"{result.pack.id}.{finding.kind.value}",
                name=f"{finding.milestone_id} {finding.milestone}".strip(),
            )
            if (finding.deal_id, finding.milestone_id, finding.kind) in failing:
                failure = ElementTree.SubElement(
                    case, "failure", message=finding.milestone, type=finding.severity
                )
                read = ", ".join(f"{name}={value!r}" for name, value in finding.read)
                failure.text = f"read: {read}\nhow: {finding.guidance}"
                suite_failures += 1
            elif finding.status in (Status.WAIVED, Status.NOT_APPLICABLE):
                ElementTree.SubElement(case, "skipped", message=finding.note or finding.status)
        suite.set("tests", str(len(assessment.findings)))
        suite.set("failures", str(suite_failures))
        total += len(assessment.findings)
        failures += suite_failures
    root.set("tests", str(total))
    root.set("failures", str(failures))
    ElementTree.indent(root)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        + ElementTree.tostring(root, encoding="unicode")
        + "\n"
    )
