"""Judging: from the outcomes an engine found to what the audit concludes about each deal.

- `semantics`: the stage rules of a pack, decided once for every stage position; every route
  (the per-deal `assess`, the columnar judge in SQL) reads them;
- `coverage`: which fields an input supplies, the milestones it cannot measure, and the
  pack the engines judge on it;
- `assess`: one evaluated deal to its findings, evidence stage, inflation and disposition;
- `waivers`: milestones a team has agreed not to require of named deals, until a date;
- `action_plan`: the steps of a deal's mutual action plan that are late;
- `forecast`: what the evidence supports of a deal's forecast category and probability.
"""
