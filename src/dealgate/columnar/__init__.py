"""The columnar audit: a CSV export audited inside DuckDB, from reading to the report.

The Python path reads, judges and reports one deal at a time. For a large pipeline the SQL
engine can do all of it in DuckDB instead, column by column:

- `canonical` reads the export with every column as text and turns it into a table of
  canonical deals by the normalisation rules of `dealgate.deals.sql_normalise`, with contact
  roles, stage history (`--stage-history`) and teams joined in;
- `judge` runs the compiled rule query over that table and writes into SQL the stage
  semantics `dealgate.judging.semantics` decided (which milestones apply, skipped or
  to-advance, evidence stage, inflation, disposition): a flag per missing milestone per deal;
- `report` writes that list as the CSV report, byte for byte what `report/audit_csv.py`
  writes.

What the columnar path cannot do (other formats, waivers, ...) is named by
`unsupported`, and the audit then runs on the Python path; `-v` says which ran and why.
"""
