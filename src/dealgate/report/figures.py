"""Figures shared by the audit reports: money per currency, never summed across currencies."""

from __future__ import annotations

from decimal import Decimal

from dealgate.money import NO_CURRENCY, Amounts


def amounts_text(amounts: Amounts) -> str:
    """`USD 120,000 + EUR 40,500`; `-` for none."""
    if not amounts:
        return "-"
    return " + ".join(money_text(amount, currency) for currency, amount in sorted(amounts.items()))


def money_text(amount: Decimal | None, currency: str | None) -> str:
    if amount is None:
        return ""
    number = f"{amount:,.2f}".removesuffix(".00")
    return f"{currency} {number}" if currency and currency != NO_CURRENCY else number


def amounts_json(amounts: Amounts) -> list[dict[str, object]]:
    return [
        {
            "currency": currency or None,
            "amount": int(amount) if amount == amount.to_integral_value() else float(amount),
        }
        for currency, amount in sorted(amounts.items())
    ]


def json_amounts_text(items: object) -> str:
    """amounts_text of a `[{currency, amount}]` list of an audit JSON document."""
    return amounts_text(amounts_from_json(items))


def amounts_from_json(items: object) -> Amounts:
    """The `[{currency, amount}]` lists of an audit JSON document, back as Amounts."""
    amounts: Amounts = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("amount"), int | float):
            key = item.get("currency") or NO_CURRENCY
            amounts[key] = amounts.get(key, Decimal(0)) + Decimal(str(item["amount"]))
    return amounts
