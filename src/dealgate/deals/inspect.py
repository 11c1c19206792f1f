"""`dealgate deals inspect`: how a file was read, column by column, and what was found."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from dealgate.deals.mapper import ColumnUse, IdKey, Reconciliation, RejectedRow
from dealgate.deals.source import DealSource
from dealgate.findings import DataFinding
from dealgate.judging.coverage import Coverage, measure
from dealgate.rules.model import RulePack


@dataclass(frozen=True)
class StageUse:
    crm_value: str
    stage_id: str | None
    deals: int


@dataclass(frozen=True)
class Inspection:
    """Everything a new user needs to see why a column was or was not recognised."""

    file: str
    format: str
    encoding: str | None
    delimiter: str | None
    sheet: str | None
    profile: str
    profile_reason: str
    pack_id: str
    columns: tuple[ColumnUse, ...]
    id_key: IdKey | None  # how deals are keyed when the file has no id column
    notes: tuple[str, ...]  # how the file was read, said once (e.g. how deals are keyed)
    stages: tuple[StageUse, ...]
    reconciliation: Reconciliation
    rejected: tuple[RejectedRow, ...]
    findings: tuple[DataFinding, ...]
    coverage: Coverage  # the pack's milestones the file cannot measure

    @property
    def keyed_by(self) -> dict[str, Any]:
        """The columns a deal's id comes from: its id column, or the columns joined."""
        if self.id_key is not None:
            return {
                "columns": list(self.id_key.headers),
                "joiner": self.id_key.joiner,
                "id_column": False,
            }
        columns = [use.header for use in self.columns if use.field == "id"]
        return {"columns": columns[:1], "joiner": None, "id_column": bool(columns)}

    @property
    def findings_by_issue(self) -> dict[str, int]:
        return dict(Counter(finding.issue.value for finding in self.findings).most_common())

    def as_json(self) -> dict[str, Any]:
        counts = self.reconciliation
        return {
            "file": self.file,
            "format": self.format,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "sheet": self.sheet,
            "profile": {"name": self.profile, "reason": self.profile_reason},
            "pack": self.pack_id,
            "columns": [
                {
                    "header": use.header,
                    "field": use.field,
                    "kind": use.kind,
                    "type": use.type,
                    "how": use.how,
                }
                for use in self.columns
            ],
            "deal_id": self.keyed_by,
            "notes": list(self.notes),
            "stages": [
                {"crm_value": use.crm_value, "stage_id": use.stage_id, "deals": use.deals}
                for use in self.stages
            ],
            "reconciliation": {
                "rows_read": counts.rows_read,
                "deals_read": counts.deals_read,
                "rows_rejected": counts.rows_rejected,
                "balanced": counts.balanced,
            },
            "rejected": [
                {"file": row.file, "row": row.row, "path": row.path, "reason": row.reason}
                for row in self.rejected
            ],
            "data_findings": [finding.as_json() for finding in self.findings],
            "coverage": self.coverage.as_json(),
        }


def inspect_deals(source: DealSource, pack: RulePack) -> Inspection:
    """Read every deal of a source and describe how it was read."""
    crm_values: dict[str, str] = {}
    for read in source:
        if read.deal.stage is not None:
            crm_values.setdefault(" ".join(read.deal.stage.split()).casefold(), read.deal.stage)
    mapper = source.mapper
    stages = tuple(
        StageUse(crm_values.get(key, key), stage_id, count)
        for key, (stage_id, count) in sorted(
            mapper.stage_counts.items(), key=lambda item: _stage_order(pack, item[1][0])
        )
    )
    table = source.table
    return Inspection(
        file=table.file,
        format=table.format,
        encoding=table.encoding,
        delimiter=table.delimiter,
        sheet=table.sheet,
        profile=source.profile.name,
        profile_reason=source.profile_reason,
        pack_id=pack.id,
        columns=tuple(mapper.plan),
        id_key=mapper.id_key,
        notes=tuple(mapper.notes),
        stages=stages,
        reconciliation=mapper.reconciliation,
        rejected=tuple(mapper.rejected),
        findings=tuple(source.findings),
        coverage=measure(pack, source.supply),
    )


def _stage_order(pack: RulePack, stage_id: str | None) -> int:
    if stage_id is None:
        return len(pack.stages)
    return pack.stage(stage_id).position
