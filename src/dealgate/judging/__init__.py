"""Judging: from the outcomes an engine found to what the audit concludes about each deal.

- `semantics`: the stage rules of a pack, decided once for every stage position; every route
  (the per-deal `assess`, the columnar judge in SQL) reads them;
- `coverage`: which fields an input supplies, the milestones it cannot measure, and the
  pack the engines judge on it;
- `assess`: one evaluated deal to its findings, evidence stage, inflation and disposition.
"""
