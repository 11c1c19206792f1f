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

from dealgate.deals.normalise import CURRENCY_SYMBOLS, FALSE_WORDS, PLACEHOLDERS, TRUE_WORDS

# What Python's str.strip() removes (str.isspace), as an RE2 character class.
_SPACE = (
    r"[\t\n\x0b\x0c\r\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}"
    r"\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]"
)
_GROUPING = r"[ \x{a0}\x{202f}'\x{2019}]"  # spaces and apostrophes between thousands
_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AaPp][Mm])?)?"


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


def macros() -> list[str]:
    """CREATE MACRO statements, in dependency order."""
    currency_arms, rest_arms = _currency_cases("r")
    return [
        # -- text ----------------------------------------------------------------------
        f"""CREATE OR REPLACE MACRO dg_strip(t) AS
            regexp_replace(t, '^{_SPACE}+|{_SPACE}+$', '', 'g')""",
        "CREATE OR REPLACE MACRO dg_clean(t) AS nullif(dg_strip(t), '')",
        f"""CREATE OR REPLACE MACRO dg_placeholder(t) AS
            coalesce(lower(dg_strip(t)) IN ({_word_list(PLACEHOLDERS)}), false)""",
        """CREATE OR REPLACE MACRO dg_text(t) AS
            CASE WHEN dg_placeholder(t) THEN NULL ELSE dg_clean(t) END""",
        # -- numbers -------------------------------------------------------------------
        """CREATE OR REPLACE MACRO dg_occurrences(t, c) AS
            length(t) - length(replace(t, c, ''))""",
        """CREATE OR REPLACE MACRO dg_last_before(t, first, second) AS
            strpos(reverse(t), first) < strpos(reverse(t), second)""",
        # _digits_to_decimal: thousands separators out, the decimal mark made a point
        f"""CREATE OR REPLACE MACRO dg_decimal_digits(raw, comma_decimal) AS (
            WITH g AS (SELECT regexp_replace(raw, {_quoted(_GROUPING)}, '', 'g') AS d)
            SELECT CASE WHEN regexp_full_match(n, '\\d+(\\.\\d+)?|\\.\\d+') THEN n END FROM (
              SELECT CASE
                WHEN contains(d, '.') AND contains(d, ',') THEN
                  CASE WHEN dg_last_before(d, '.', ',') THEN replace(d, ',', '')
                       ELSE replace(replace(d, '.', ''), ',', '.') END
                WHEN contains(d, ',') THEN
                  CASE WHEN NOT comma_decimal AND regexp_full_match(d, '\\d{{1,3}}(,\\d{{3}})+')
                         THEN replace(d, ',', '')
                       WHEN dg_occurrences(d, ',') = 1 THEN replace(d, ',', '.')
                       ELSE d END
                WHEN contains(d, '.') AND (comma_decimal OR dg_occurrences(d, '.') > 1)
                     AND regexp_full_match(d, '\\d{{1,3}}(\\.\\d{{3}})+')
                  THEN replace(d, '.', '')
                ELSE d END AS n FROM g))""",
        # parse_number: a sign or accounting parentheses, then the digits
        """CREATE OR REPLACE MACRO dg_number_text(t, comma_decimal) AS (
            SELECT CASE WHEN digits IS NULL THEN NULL
                        WHEN negative THEN '-' || digits ELSE digits END
            FROM (SELECT
              starts_with(s, '-') OR (starts_with(s, '(') AND ends_with(s, ')')) AS negative,
              dg_decimal_digits(dg_strip(regexp_replace(
                  regexp_replace(s, '^[()]+|[()]+$', '', 'g'), '^[-+]+', '')),
                comma_decimal) AS digits
              FROM (SELECT dg_strip(t) AS s)))""",
        """CREATE OR REPLACE MACRO dg_number(t, comma_decimal) AS
            CAST(dg_number_text(t, comma_decimal) AS DOUBLE)""",
        # parse_money: a currency symbol or ISO code off either end, then a number
        f"""CREATE OR REPLACE MACRO dg_split_currency(r) AS (
            SELECT CASE
              {currency_arms}
              WHEN head_code THEN head
              WHEN tail_code THEN code END AS currency
            FROM (SELECT
              regexp_full_match(head, '[A-Z]{{3}}') AND tail <> '' AS head_code,
              regexp_full_match(code, '[A-Z]{{3}}') AND body <> '' AS tail_code, head, code
              FROM (SELECT
                CASE WHEN strpos(r, ' ') > 0 THEN substring(r, 1, strpos(r, ' ') - 1)
                     ELSE r END AS head,
                CASE WHEN strpos(r, ' ') > 0 THEN substring(r, strpos(r, ' ') + 1)
                     ELSE '' END AS tail,
                CASE WHEN strpos(r, ' ') > 0
                     THEN substring(r, length(r) - strpos(reverse(r), ' ') + 2)
                     ELSE r END AS code,
                CASE WHEN strpos(r, ' ') > 0
                     THEN substring(r, 1, length(r) - strpos(reverse(r), ' '))
                     ELSE '' END AS body)))""",
        f"""CREATE OR REPLACE MACRO dg_without_currency(r) AS (
            SELECT CASE
              {rest_arms}
              WHEN regexp_full_match(split_part(r, ' ', 1), '[A-Z]{{3}}')
                   AND strpos(r, ' ') > 0 AND substring(r, strpos(r, ' ') + 1) <> ''
                THEN dg_strip(substring(r, strpos(r, ' ') + 1))
              WHEN strpos(r, ' ') > 0
                   AND regexp_full_match(
                         substring(r, length(r) - strpos(reverse(r), ' ') + 2), '[A-Z]{{3}}')
                   AND substring(r, 1, length(r) - strpos(reverse(r), ' ')) <> ''
                THEN dg_strip(substring(r, 1, length(r) - strpos(reverse(r), ' ')))
              ELSE r END)""",
        """CREATE OR REPLACE MACRO dg_money_parts(t) AS (
            SELECT {'parenthesised': parenthesised, 'negative': negative, 'r': r}
            FROM (SELECT parenthesised, starts_with(inner_text, '-') AS negative,
                    CASE WHEN starts_with(inner_text, '-')
                         THEN dg_strip(substring(inner_text, 2)) ELSE inner_text END AS r
              FROM (SELECT parenthesised,
                      CASE WHEN parenthesised
                           THEN dg_strip(substring(s, 2, length(s) - 2)) ELSE s END AS inner_text
                FROM (SELECT s, starts_with(s, '(') AND ends_with(s, ')') AS parenthesised
                  FROM (SELECT dg_strip(t) AS s)))))""",
        """CREATE OR REPLACE MACRO dg_money_currency(t) AS
            dg_split_currency(dg_money_parts(t).r)""",
        """CREATE OR REPLACE MACRO dg_money_text(t, comma_decimal) AS (
            SELECT dg_number_text(
              CASE WHEN p.parenthesised THEN '(' || rest || ')' ELSE rest END, comma_decimal)
            FROM (SELECT p, CASE WHEN p.negative THEN '-' ELSE '' END
                            || dg_without_currency(p.r) AS rest
              FROM (SELECT dg_money_parts(t) AS p)))""",
        # parse_percent: 25, 25% or a fraction (0.25) where the CRM stores fractions
        """CREATE OR REPLACE MACRO dg_percent_raw(t, fraction) AS (
            SELECT CASE WHEN ends_with(s, '%')
                        THEN CAST(dg_number_text(substring(s, 1, length(s) - 1), false)
                                  AS DECIMAL(38, 10))
                        WHEN fraction
                        THEN CAST(dg_number_text(s, false) AS DECIMAL(38, 10)) * 100
                        ELSE CAST(dg_number_text(s, false) AS DECIMAL(38, 10)) END
            FROM (SELECT dg_strip(t) AS s))""",
        """CREATE OR REPLACE MACRO dg_percent(t, fraction) AS (
            SELECT CASE WHEN n BETWEEN 0 AND 100 THEN CAST(n AS DOUBLE) END
            FROM (SELECT dg_percent_raw(t, fraction) AS n))""",
        """CREATE OR REPLACE MACRO dg_percent_issue(t, fraction) AS (
            SELECT CASE WHEN n IS NULL THEN 'unreadable'
                        WHEN NOT n BETWEEN 0 AND 100 THEN 'out_of_range' END
            FROM (SELECT dg_percent_raw(t, fraction) AS n))""",
        # parse_bool and parse_count
        f"""CREATE OR REPLACE MACRO dg_bool(t) AS
            CASE WHEN lower(dg_strip(t)) IN ({_word_list(TRUE_WORDS)}) THEN true
                 WHEN lower(dg_strip(t)) IN ({_word_list(FALSE_WORDS)}) THEN false END""",
        """CREATE OR REPLACE MACRO dg_count(t) AS (
            SELECT CASE WHEN n >= 0 AND n = floor(n) THEN CAST(n AS BIGINT) END
            FROM (SELECT CAST(dg_number_text(t, false) AS DECIMAL(38, 10)) AS n))""",
        # parse_date: ISO, ISO with a time (its UTC date), slashes in the profile's order,
        # dots (D.M.YYYY), YYYY/M/D, and epoch milliseconds
        f"""CREATE OR REPLACE MACRO dg_date(t, month_first) AS (
            SELECT CASE
              WHEN regexp_full_match(s, '\\d{{4}}-\\d{{2}}-\\d{{2}}') THEN try_cast(s AS DATE)
              WHEN regexp_matches(s, '^\\d{{4}}-\\d{{2}}-\\d{{2}}') THEN
                CAST(timezone('UTC', try_cast(replace(s, 'Z', '+00:00') AS TIMESTAMPTZ))
                     AS DATE)
              WHEN regexp_full_match(s, '(\\d{{1,2}})/(\\d{{1,2}})/(\\d{{4}}){_TIME}') THEN
                dg_make_date(regexp_extract(s, '^\\d+/\\d+/(\\d+)', 1),
                  CASE WHEN month_first THEN regexp_extract(s, '^(\\d+)', 1)
                       ELSE regexp_extract(s, '^\\d+/(\\d+)', 1) END,
                  CASE WHEN month_first THEN regexp_extract(s, '^\\d+/(\\d+)', 1)
                       ELSE regexp_extract(s, '^(\\d+)', 1) END)
              WHEN regexp_full_match(s, '(\\d{{1,2}})\\.(\\d{{1,2}})\\.(\\d{{4}}){_TIME}') THEN
                dg_make_date(regexp_extract(s, '^\\d+\\.\\d+\\.(\\d+)', 1),
                  regexp_extract(s, '^\\d+\\.(\\d+)', 1), regexp_extract(s, '^(\\d+)', 1))
              WHEN regexp_full_match(s, '(\\d{{4}})/(\\d{{1,2}})/(\\d{{1,2}})') THEN
                dg_make_date(regexp_extract(s, '^(\\d+)', 1),
                  regexp_extract(s, '^\\d+/(\\d+)', 1), regexp_extract(s, '^\\d+/\\d+/(\\d+)', 1))
              WHEN regexp_full_match(s, '\\d{{13}}') THEN
                CAST(epoch_ms(CAST(s AS BIGINT)) AS DATE) END
            FROM (SELECT dg_strip(t) AS s))""",
    ]


_MAKE_DATE = """CREATE OR REPLACE MACRO dg_make_date(y, m, d) AS
    try_cast(lpad(y, 4, '0') || '-' || lpad(m, 2, '0') || '-' || lpad(d, 2, '0') AS DATE)"""


def install(connection: Any) -> None:
    """Define the macros on a DuckDB connection (dates are read in UTC)."""
    connection.execute("SET TimeZone = 'UTC'")
    connection.execute(_MAKE_DATE)
    for statement in macros():
        connection.execute(statement)
