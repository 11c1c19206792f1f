"""When a name or value in a pack is a slip of a known one, and so an error, not a new meaning.

Undeclared names are custom fields and unknown texts are values a CRM may use, so a pack may
write them; only a near miss of something dealgate knows is refused, because it would
silently never match. Near is deliberately tighter than a "did you mean" hint: the same
letters in another case, or one edit away (two in names of ten letters or more); words
under five letters are only ever a case slip.
"""

from __future__ import annotations

from collections.abc import Iterable


def slip_of(word: str, known: Iterable[str]) -> str | None:
    """The known word `word` is most likely a slip of, or None when it is none's."""
    folded = word.casefold()
    allowed = 0 if len(word) < 5 else 1 if len(word) < 10 else 2
    best: tuple[int, str] | None = None
    for candidate in known:
        distance = _edits(folded, candidate.casefold(), allowed)
        if distance <= allowed and (best is None or distance < best[0]):
            best = (distance, candidate)
    return best[1] if best is not None else None


def _edits(a: str, b: str, limit: int) -> int:
    """Edits (insert, delete, replace, swap two neighbours) from a to b; limit + 1 when more."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i, left in enumerate(a, 1):
        current = [i]
        for j, right in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (left != right))
            if i > 1 and j > 1 and left == b[j - 2] and a[i - 2] == right:
                cost = min(cost, before[j - 2] + 1)
            current.append(cost)
        before, previous = previous, current
    return min(previous[-1], limit + 1)
