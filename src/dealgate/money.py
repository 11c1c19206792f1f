"""Money per currency: amounts are summed per currency, never across currencies.

A module of its own so that a report that only prints an amount (the checklist of `check`)
does not import the audit.
"""

from __future__ import annotations

from decimal import Decimal

NO_CURRENCY = ""  # the key of amounts whose deal has no currency

Amounts = dict[str, Decimal]  # currency -> amount; never summed across currencies
