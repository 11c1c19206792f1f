"""The normalisation rules of `dealgate.deals.normalise`, as DuckDB macros.

DuckDB reads an export with every column as text; these macros turn that text into typed
values by the same rules as the Python readers, so a file read in SQL and a file read in
Python give the same deals. Each macro gives NULL where the Python rule raises `Unreadable`;
`dg_issue_*` macros say which data issue that is. The word lists and currency symbols come
from the Python module, so the two cannot drift apart on them; the conformance cases in
`tests/conformance/normalisation/cases.yaml` hold both to every rule.

Known difference: Python's `\\d` also matches digits of other scripts (Arabic-Indic, ...);
these macros read ASCII digits only, and such a value is unreadable here.
"""

from __future__ import annotations

from typing import Any

from dealgate.deals.normalise import (
    CURRENCY_CODE,
    CURRENCY_SYMBOLS,
    DOT_DATE,
    EPOCH_MILLIS,
    FALSE_WORDS,
    GROUPED_BY_COMMA,
    GROUPED_BY_DOT,
    GROUPING_MARKS,
    ISO_DATE,
    MAX_WHOLE_DIGITS,
    PLACEHOLDERS,
    PLAIN_NUMBER,
    SLASH_DATE,
    TRUE_WORDS,
    WITHIN_REACH,
    YEAR_FIRST_SLASH_DATE,
)

# What Python's str.strip() removes (str.isspace), as an RE2 character class.
_SPACE = (
    r"[\t\n\x0b\x0c\r\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}"
    r"\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]"
)
_LONGEST_PLACEHOLDER = max(len(word) for word in PLACEHOLDERS)
_GROUPING = "[" + "".join(f"\\x{{{ord(mark):x}}}" for mark in GROUPING_MARKS) + "]"
# The fast paths: digits, and a point with digits after it, no more whole digits than a
# number may have (MAX_WHOLE_DIGITS). Anything else, a longer number included, takes the full
# rules (dg_number_text), which end in dg_plain_number and its WITHIN_REACH.
_PLAIN_DIGITS = f"'\\d{{1,{MAX_WHOLE_DIGITS}}}'"
_PLAIN_DECIMAL = f"'\\d{{1,{MAX_WHOLE_DIGITS}}}(\\.\\d+)?'"
_PLAIN_OR_MONEY = (
    f"CASE WHEN regexp_full_match(dg_s, {_PLAIN_DECIMAL}) THEN dg_s "
    "ELSE dg_money_of(dg_s, comma_decimal) END"
)


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _word_list(words: frozenset[str]) -> str:
    return ", ".join(_quoted(word) for word in sorted(words))


def _currency_cases(value: str) -> tuple[str, str]:
    """CASE arms taking a symbol off either end, in the order Python tries them."""
    currency, rest = [], []
    for symbol in sorted(CURRENCY_SYMBOLS, key=len, reverse=True):
        code, quoted, size = _quoted(CURRENCY_SYMBOLS[symbol]), _quoted(symbol), len(symbol)
        starts, ends = f"starts_with({value}, {quoted})", f"ends_with({value}, {quoted})"
        currency += [f"WHEN {starts} THEN {code}", f"WHEN {ends} THEN {code}"]
        rest += [
            f"WHEN {starts} THEN dg_strip(substring({value}, {size + 1}))",
            f"WHEN {ends} THEN dg_strip(substring({value}, 1, length({value}) - {size}))",
        ]
    return " ".join(currency), " ".join(rest)


def let(value: str, name: str, body: str) -> str:
    """`body` with `name` bound to `value`, computed once. A macro's argument is pasted
    wherever the macro uses it, so nested macros would otherwise grow exponentially."""
    return f"list_transform([{value}], lambda {name}: {body})[1]"


def macros() -> list[str]:
    """CREATE MACRO statements, in dependency order.

    Every macro is a plain expression (no subquery), so it can be used inside a list
    lambda; a computed value used several times is bound once with `_let`.
    """
    currency_arms, rest_arms = _currency_cases("r")
    slash, dots, iso = _quoted(SLASH_DATE), _quoted(DOT_DATE), _quoted(ISO_DATE)
    return [
        # -- text ----------------------------------------------------------------------
        f"""CREATE OR REPLACE MACRO dg_strip(t) AS
            regexp_replace(t, '^{_SPACE}+|{_SPACE}+$', '', 'g')""",
        "CREATE OR REPLACE MACRO dg_clean(t) AS nullif(dg_strip(t), '')",
        f"""CREATE OR REPLACE MACRO dg_placeholder(t) AS
            coalesce(lower(dg_strip(t)) IN ({_word_list(PLACEHOLDERS)}), false)""",
        # Most text is ASCII (as many bytes as characters) with no space or control
        # character at either end: nothing to strip, and for ASCII lower() is casefold(),
        # so only a placeholder's length and words are checked. Cheaper than a regular
        # expression over the whole text, and than the general rule below.
        f"""CREATE OR REPLACE MACRO dg_text(t) AS CASE
            WHEN t IS NULL THEN NULL
            WHEN strlen(t) = length(t) AND left(t, 1) > ' ' AND right(t, 1) > ' ' THEN
              CASE WHEN length(t) <= {_LONGEST_PLACEHOLDER}
                        AND lower(t) IN ({_word_list(PLACEHOLDERS)}) THEN NULL ELSE t END
            ELSE {
            let(
                "dg_strip(t)",
                "dg_s",
                f"CASE WHEN length(dg_s) <= {_LONGEST_PLACEHOLDER} "
                f"AND lower(dg_s) IN ({_word_list(PLACEHOLDERS)}) THEN NULL "
                "ELSE nullif(dg_s, '') END",
            )
        } END""",
        # -- numbers -------------------------------------------------------------------
        """CREATE OR REPLACE MACRO dg_occurrences(t, c) AS
            length(t) - length(replace(t, c, ''))""",
        """CREATE OR REPLACE MACRO dg_last_before(t, first, second) AS
            strpos(reverse(t), first) < strpos(reverse(t), second)""",
        # _digits_to_decimal: thousands separators out, the decimal mark made a point
        f"""CREATE OR REPLACE MACRO dg_decimal_pick(d, comma_decimal) AS CASE
            WHEN contains(d, '.') AND contains(d, ',') THEN
              CASE WHEN dg_last_before(d, '.', ',') THEN replace(d, ',', '')
                   ELSE replace(replace(d, '.', ''), ',', '.') END
            WHEN contains(d, ',') THEN
              CASE WHEN NOT comma_decimal AND regexp_full_match(d, {_quoted(GROUPED_BY_COMMA)})
                     THEN replace(d, ',', '')
                   WHEN dg_occurrences(d, ',') = 1 THEN replace(d, ',', '.')
                   ELSE d END
            WHEN contains(d, '.') AND (comma_decimal OR dg_occurrences(d, '.') > 1)
                 AND regexp_full_match(d, {_quoted(GROUPED_BY_DOT)})
              THEN replace(d, '.', '')
            ELSE d END""",
        # a number of more whole digits than MAX_WHOLE_DIGITS is not read (checked_number)
        f"""CREATE OR REPLACE MACRO dg_plain_number(n) AS
            CASE WHEN regexp_full_match(n, {_quoted(PLAIN_NUMBER)})
                  AND regexp_full_match(n, {_quoted(WITHIN_REACH)}) THEN n END""",
        f"""CREATE OR REPLACE MACRO dg_decimal_digits(raw, comma_decimal) AS
            {
            let(
                f"regexp_replace(raw, {_quoted(_GROUPING)}, '', 'g')",
                "dg_d",
                let("dg_decimal_pick(dg_d, comma_decimal)", "dg_n", "dg_plain_number(dg_n)"),
            )
        }""",
        # parse_number: a sign or accounting parentheses, then the digits
        f"""CREATE OR REPLACE MACRO dg_signed(negative, digits) AS {
            let(
                "digits",
                "dg_g",
                "CASE WHEN dg_g IS NULL THEN NULL WHEN negative THEN '-' || dg_g ELSE dg_g END",
            )
        }""",
        """CREATE OR REPLACE MACRO dg_number_of(s, comma_decimal) AS dg_signed(
            starts_with(s, '-') OR (starts_with(s, '(') AND ends_with(s, ')')),
            dg_decimal_digits(dg_strip(regexp_replace(
              regexp_replace(s, '^[()]+|[()]+$', '', 'g'), '^[-+]+', '')), comma_decimal))""",
        # Digits alone, or digits and one point where the point is the decimal mark, are
        # already a plain number: nothing to strip, sign, group or swap.
        f"""CREATE OR REPLACE MACRO dg_number_text(t, comma_decimal) AS CASE
            WHEN regexp_full_match(t, {_PLAIN_DIGITS})
              OR (NOT comma_decimal AND regexp_full_match(t, {_PLAIN_DECIMAL})) THEN t
            ELSE {let("dg_strip(t)", "dg_s", "dg_number_of(dg_s, comma_decimal)")} END""",
        """CREATE OR REPLACE MACRO dg_number(t, comma_decimal) AS
            CAST(dg_number_text(t, comma_decimal) AS DOUBLE)""",
        # parse_money: a currency symbol or ISO code off either end, then a number
        """CREATE OR REPLACE MACRO dg_head(r) AS
            CASE WHEN strpos(r, ' ') > 0 THEN substring(r, 1, strpos(r, ' ') - 1) ELSE r END""",
        """CREATE OR REPLACE MACRO dg_tail(r) AS
            CASE WHEN strpos(r, ' ') > 0 THEN substring(r, strpos(r, ' ') + 1) ELSE '' END""",
        """CREATE OR REPLACE MACRO dg_code(r) AS
            CASE WHEN strpos(r, ' ') > 0
                 THEN substring(r, length(r) - strpos(reverse(r), ' ') + 2) ELSE r END""",
        """CREATE OR REPLACE MACRO dg_body(r) AS
            CASE WHEN strpos(r, ' ') > 0
                 THEN substring(r, 1, length(r) - strpos(reverse(r), ' ')) ELSE '' END""",
        f"""CREATE OR REPLACE MACRO dg_head_code(r) AS
            regexp_full_match(dg_head(r), {_quoted(CURRENCY_CODE)}) AND dg_tail(r) <> ''""",
        f"""CREATE OR REPLACE MACRO dg_tail_code(r) AS
            regexp_full_match(dg_code(r), {_quoted(CURRENCY_CODE)}) AND dg_body(r) <> ''""",
        f"""CREATE OR REPLACE MACRO dg_split_currency(r) AS CASE
            {currency_arms}
            WHEN dg_head_code(r) THEN dg_head(r)
            WHEN dg_tail_code(r) THEN dg_code(r) END""",
        f"""CREATE OR REPLACE MACRO dg_without_currency(r) AS CASE
            {rest_arms}
            WHEN dg_head_code(r) THEN dg_strip(dg_tail(r))
            WHEN dg_tail_code(r) THEN dg_strip(dg_body(r))
            ELSE r END""",
        """CREATE OR REPLACE MACRO dg_parenthesised(s) AS
            starts_with(s, '(') AND ends_with(s, ')')""",
        """CREATE OR REPLACE MACRO dg_inner(s) AS
            CASE WHEN dg_parenthesised(s) THEN dg_strip(substring(s, 2, length(s) - 2))
                 ELSE s END""",
        """CREATE OR REPLACE MACRO dg_unsigned(i) AS
            CASE WHEN starts_with(i, '-') THEN dg_strip(substring(i, 2)) ELSE i END""",
        # plain digits carry no currency
        f"""CREATE OR REPLACE MACRO dg_money_currency(t) AS CASE
            WHEN t IS NULL OR regexp_full_match(t, {_PLAIN_DECIMAL}) THEN NULL ELSE {
            let(
                let(let("dg_strip(t)", "dg_s", "dg_inner(dg_s)"), "dg_i", "dg_unsigned(dg_i)"),
                "dg_r",
                "dg_split_currency(dg_r)",
            )
        } END""",
        f"""CREATE OR REPLACE MACRO dg_money_rest(i) AS
            CASE WHEN starts_with(i, '-') THEN '-' ELSE '' END
            || {let("dg_unsigned(i)", "dg_r", "dg_without_currency(dg_r)")}""",
        f"""CREATE OR REPLACE MACRO dg_money_of(s, comma_decimal) AS {
            let(
                "dg_money_rest(dg_inner(s))",
                "dg_m",
                "dg_number_text(CASE WHEN dg_parenthesised(s) THEN '(' || dg_m || ')' "
                "ELSE dg_m END, comma_decimal)",
            )
        }""",
        # Most amounts are plain digits: those skip the currency and separator rules. The
        # test stands outside `let`, whose per-row list costs more than every rule it skips.
        f"""CREATE OR REPLACE MACRO dg_money_text(t, comma_decimal) AS CASE
            WHEN regexp_full_match(t, {_PLAIN_DECIMAL}) THEN t
            ELSE {let("dg_strip(t)", "dg_s", _PLAIN_OR_MONEY)} END""",
        # parse_percent: 25, 25% or a fraction (0.25) where the CRM stores fractions
        """CREATE OR REPLACE MACRO dg_percent_of(s, fraction) AS
            CASE WHEN ends_with(s, '%')
                 THEN CAST(dg_number_text(substring(s, 1, length(s) - 1), false)
                           AS DECIMAL(38, 10))
                 WHEN fraction THEN CAST(dg_number_text(s, false) AS DECIMAL(38, 10)) * 100
                 ELSE CAST(dg_number_text(s, false) AS DECIMAL(38, 10)) END""",
        f"""CREATE OR REPLACE MACRO dg_percent_raw(t, fraction) AS
            {let("dg_strip(t)", "dg_s", "dg_percent_of(dg_s, fraction)")}""",
        """CREATE OR REPLACE MACRO dg_in_range(n) AS
            CASE WHEN n BETWEEN 0 AND 100 THEN CAST(n AS DOUBLE) END""",
        # a plain number that is not a fraction is its own percentage (dg_percent_of)
        f"""CREATE OR REPLACE MACRO dg_percent(t, fraction) AS CASE
            WHEN NOT fraction AND regexp_full_match(t, {_PLAIN_DECIMAL})
              THEN dg_in_range(CAST(t AS DECIMAL(38, 10)))
            ELSE {let("dg_percent_raw(t, fraction)", "dg_p", "dg_in_range(dg_p)")} END""",
        """CREATE OR REPLACE MACRO dg_range_issue(n) AS
            CASE WHEN n IS NULL THEN 'unreadable'
                 WHEN NOT n BETWEEN 0 AND 100 THEN 'out_of_range' END""",
        f"""CREATE OR REPLACE MACRO dg_percent_issue(t, fraction) AS
            {let("dg_percent_raw(t, fraction)", "dg_p", "dg_range_issue(dg_p)")}""",
        # parse_bool and parse_count
        f"""CREATE OR REPLACE MACRO dg_bool_of(w) AS
            CASE WHEN w IN ({_word_list(TRUE_WORDS)}) THEN true
                 WHEN w IN ({_word_list(FALSE_WORDS)}) THEN false END""",
        f"""CREATE OR REPLACE MACRO dg_bool(t) AS
            {let("lower(dg_strip(t))", "dg_w", "dg_bool_of(dg_w)")}""",
        """CREATE OR REPLACE MACRO dg_whole(n) AS
            CASE WHEN n >= 0 AND n = floor(n) THEN CAST(n AS BIGINT) END""",
        f"""CREATE OR REPLACE MACRO dg_count(t) AS {
            let("CAST(dg_number_text(t, false) AS DECIMAL(38, 10))", "dg_c", "dg_whole(dg_c)")
        }""",
        # parse_date: ISO, ISO with a time (its UTC date), slashes in the profile's order,
        # dots (D.M.YYYY), YYYY/M/D, and epoch milliseconds
        f"""CREATE OR REPLACE MACRO dg_date_of(s, month_first) AS CASE
            WHEN regexp_full_match(s, {slash}) THEN dg_slash_date(s, month_first)
            WHEN regexp_full_match(s, {iso}) THEN dg_iso_date(s)
            WHEN regexp_matches(s, {_quoted("^" + ISO_DATE)}) THEN
              CAST(timezone('UTC', try_cast(replace(s, 'Z', '+00:00') AS TIMESTAMPTZ)) AS DATE)
            WHEN regexp_full_match(s, {dots}) THEN
              dg_make_date(regexp_extract(s, '^\\d+\\.\\d+\\.(\\d+)', 1),
                regexp_extract(s, '^\\d+\\.(\\d+)', 1), regexp_extract(s, '^(\\d+)', 1))
            WHEN regexp_full_match(s, {_quoted(YEAR_FIRST_SLASH_DATE)}) THEN
              dg_make_date(regexp_extract(s, '^(\\d+)', 1),
                regexp_extract(s, '^\\d+/(\\d+)', 1),
                regexp_extract(s, '^\\d+/\\d+/(\\d+)', 1))
            WHEN regexp_full_match(s, {_quoted(EPOCH_MILLIS)}) THEN
              CAST(epoch_ms(CAST(s AS BIGINT)) AS DATE) END""",
        # the two forms exports use most, with nothing to strip, go straight to a date
        f"""CREATE OR REPLACE MACRO dg_date(t, month_first) AS CASE
            WHEN regexp_full_match(t, {iso}) THEN dg_iso_date(t)
            WHEN regexp_full_match(t, '\\d{{1,2}}/\\d{{1,2}}/\\d{{4}}')
              THEN dg_slash_date(t, month_first)
            ELSE {let("dg_strip(t)", "dg_s", "dg_date_of(dg_s, month_first)")} END""",
    ]


# Python's dates start at year 1; DuckDB's also know year 0, which is no date here.
_DATES = [
    """CREATE OR REPLACE MACRO dg_make_date(y, m, d) AS CASE WHEN y = '0000' THEN NULL
        ELSE try_cast(lpad(y, 4, '0') || '-' || lpad(m, 2, '0') || '-' || lpad(d, 2, '0')
                      AS DATE) END""",
    """CREATE OR REPLACE MACRO dg_iso_date(s) AS
        CASE WHEN starts_with(s, '0000') THEN NULL ELSE try_cast(s AS DATE) END""",
    """CREATE OR REPLACE MACRO dg_slash_date(s, month_first) AS
        dg_make_date(substring(split_part(s, '/', 3), 1, 4),
          split_part(s, '/', CASE WHEN month_first THEN 1 ELSE 2 END),
          split_part(s, '/', CASE WHEN month_first THEN 2 ELSE 1 END))""",
]


def install(connection: Any) -> None:
    """Define the macros on a DuckDB connection (dates are read in UTC)."""
    connection.execute("SET TimeZone = 'UTC'")
    for statement in _DATES:
        connection.execute(statement)
    for statement in macros():
        connection.execute(statement)
