"""How a cell's text is read as a date, a number, an amount, ...: each rule written once.

The rules are trees of `deals/cell_language.py`, compiled to Python functions for the
Python readers (`deals/normalise.py` wraps them with typed values and messages) and to DuckDB
macros for the columnar route (`deals/sql_normalise.py`). A rule gives None where the text
cannot be read; the readers say why.

Several rules start with a fast path for the forms most cells take (plain digits, an ISO
date, ASCII text with nothing to strip): the same value the general rule gives, tried first
because in DuckDB the general rules (a `let` is a one-item list per row) cost several times
more. In Python they cost nothing.
"""

from __future__ import annotations

from dealgate.deals.cell_language import (
    Chars,
    Expr,
    Pattern,
    Rule,
    Use,
    Var,
    case,
    expr,
    let,
    op,
)

# Values reps type to get past a required field. Read as missing, and reported.
PLACEHOLDERS = frozenset(
    [
        "n/a",
        "na",
        "n.a.",
        "n.a",
        "tbd",
        "tbc",
        "tba",
        "-",
        "--",
        "---",
        "?",
        "??",
        "???",
        ".",
        "..",
        "...",
        "xxx",
        "#n/a",
    ]
)
TRUE_WORDS = frozenset(["yes", "y", "true", "t", "1", "x", "on"])
FALSE_WORDS = frozenset(["no", "n", "false", "f", "0", "off"])
CURRENCY_SYMBOLS = {
    "$": "USD",
    "US$": "USD",
    "€": "EUR",
    "£": "GBP",
    "¥": "JPY",
    "₹": "INR",
    "CHF": "CHF",
    "A$": "AUD",
    "C$": "CAD",
    "R$": "BRL",
    "kr": "SEK",
}

# The text forms read.
ISO_DATE = r"\d{4}-\d{2}-\d{2}"
TIME_OF_DAY = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AaPp][Mm])?)?"
SLASH_DATE = r"(\d{1,2})/(\d{1,2})/(\d{4})" + TIME_OF_DAY
SHORT_YEAR_SLASH_DATE = r"(\d{1,2})/(\d{1,2})/(\d{2,3})" + TIME_OF_DAY
DOT_DATE = r"(\d{1,2})\.(\d{1,2})\.(\d{4})" + TIME_OF_DAY
YEAR_FIRST_SLASH_DATE = r"(\d{4})/(\d{1,2})/(\d{1,2})"
EPOCH_MILLIS = r"\d{13}"
CURRENCY_CODE = r"[A-Z]{3}"
PLAIN_NUMBER = r"\d+(\.\d+)?|\.\d+"
GROUPED_BY_COMMA = r"\d{1,3}(,\d{3})+"
GROUPED_BY_DOT = r"\d{1,3}(\.\d{3})+"
GROUPING_MARKS = " \u00a0\u202f'\u2019"  # spaces and apostrophes between thousands

# A number with more digits before its point than this is not read: no amount, probability or
# count needs them, Python refuses to turn integers of over 4,300 digits into text, and the SQL
# route holds numbers as DECIMAL(38, 10) (28 whole digits) or DOUBLE. See docs/reliability.md.
MAX_WHOLE_DIGITS = 28
# No count (how often a close date was pushed, ...) is larger; it fits a 64-bit integer.
MAX_COUNT = 10**15
# At most MAX_WHOLE_DIGITS whole digits once leading zeros are dropped.
WITHIN_REACH = rf"0*\d{{0,{MAX_WHOLE_DIGITS}}}(\.\d+)?"
# Digits, and digits with a point: a plain number, with no more whole digits than allowed.
PLAIN_DIGITS = rf"\d{{1,{MAX_WHOLE_DIGITS}}}"
PLAIN_DECIMAL = rf"\d{{1,{MAX_WHOLE_DIGITS}}}(\.\d+)?"
_LONGEST_PLACEHOLDER = max(len(word) for word in PLACEHOLDERS)

t, s, r, d, i, n = (Var(name) for name in ("t", "s", "r", "d", "i", "n"))
comma = Var("comma_decimal")  # the profile reads a comma as the decimal mark
fraction = Var("fraction")  # the CRM stores probabilities as fractions (0.25)
month_first = Var("month_first")  # the profile reads 5/6/2026 as May 6


def full(value: Expr, pattern: str) -> Expr:
    return op("full_match", value, Pattern(pattern))


def _placeholder_of(stripped: Expr) -> Expr:
    return op("le", op("length", stripped), _LONGEST_PLACEHOLDER) & op(
        "in_words", op("lower", stripped), PLACEHOLDERS
    )


# -- text --------------------------------------------------------------------------------

_TEXT = [
    Rule("strip", ("t",), op("strip", t)),
    Rule(
        "clean",
        ("t",),
        let("dg_s", op("strip", t), lambda s: case((op("eq", s, ""), None), otherwise=s)),
    ),
    Rule("placeholder", ("t",), op("in_words", op("lower", op("strip", t)), PLACEHOLDERS)),
    # The text of a cell: None for a blank or a placeholder. Most text is ASCII with nothing
    # to strip, and for ASCII lower() is what the placeholder test needs.
    Rule(
        "text",
        ("t",),
        case(
            (op("is_null", t), None),
            (
                # ASCII, first and last characters above a space: `t >= "!"` is `t[:1] > " "`
                # without cutting the text
                op("is_ascii", t) & op("ge", t, "!") & op("gt", op("ascii_last", t), " "),
                case((_placeholder_of(t), None), otherwise=t),
            ),
            otherwise=let(
                "dg_s",
                op("strip", t),
                lambda s: case((_placeholder_of(s), None), (op("eq", s, ""), None), otherwise=s),
            ),
        ),
    ),
]

# -- numbers -----------------------------------------------------------------------------

_NUMBERS = [
    # the decimal mark made a point, the other mark (thousands) taken out
    Rule(
        "decimal_pick",
        ("d", "comma_decimal"),
        case(
            (
                op("contains", d, ".") & op("contains", d, ","),
                case(
                    (op("later", d, ".", ","), op("replace", d, ",", "")),
                    otherwise=op("replace", op("replace", d, ".", ""), ",", "."),
                ),
            ),
            (
                op("contains", d, ","),
                case(
                    (~comma & full(d, GROUPED_BY_COMMA), op("replace", d, ",", "")),
                    (op("eq", op("count", d, ","), 1), op("replace", d, ",", ".")),
                    otherwise=d,
                ),
            ),
            (
                op("contains", d, ".")
                & (comma | op("gt", op("count", d, "."), 1))
                & full(d, GROUPED_BY_DOT),
                op("replace", d, ".", ""),
            ),
            otherwise=d,
        ),
    ),
    Rule(
        "plain_number",
        ("n",),
        case((full(n, PLAIN_NUMBER) & full(n, WITHIN_REACH), n)),
    ),
    # A plain number of any size: what `plain_number` would read without the limit, so the
    # Python reader can say a number was too large rather than unreadable.
    Rule("any_plain_number", ("n",), case((full(n, PLAIN_NUMBER), n))),
    # The digits of a number without its sign: grouping marks out, the decimal mark a point.
    Rule(
        "decimal_digits",
        ("d", "comma_decimal", "bounded"),
        let(
            "dg_n",
            Use("decimal_pick", (op("drop_chars", d, Chars(GROUPING_MARKS)), comma)),
            lambda n: case(
                (Var("bounded"), Use("plain_number", (n,))),
                otherwise=Use("any_plain_number", (n,)),
            ),
        ),
    ),
    # A sign or accounting parentheses, (1,200), then the digits.
    Rule(
        "number_of",
        ("s", "comma_decimal", "bounded"),
        let(
            "dg_g",
            Use(
                "decimal_digits",
                (
                    op("strip", op("lstrip_chars", op("strip_chars", s, "()"), "-+")),
                    comma,
                    Var("bounded"),
                ),
            ),
            lambda g: case(
                (op("is_null", g), None),
                (
                    op("starts", s, "-") | (op("starts", s, "(") & op("ends", s, ")")),
                    op("concat", "-", g),
                ),
                otherwise=g,
            ),
        ),
    ),
    # A number's text as a plain number (`-12500.50`); the fast path: digits alone, or digits
    # and a point where a point is the decimal mark.
    Rule(
        "number_text",
        ("t", "comma_decimal"),
        case(
            (full(t, PLAIN_DIGITS) | (~comma & full(t, PLAIN_DECIMAL)), t),
            otherwise=let("dg_s", op("strip", t), lambda s: Use("number_of", (s, comma, True))),
        ),
    ),
    Rule(
        "unbounded_number_text",
        ("t", "comma_decimal"),
        let("dg_s", op("strip", t), lambda s: Use("number_of", (s, comma, False))),
    ),
    Rule("number", ("t", "comma_decimal"), op("number_value", Use("number_text", (t, comma)))),
]

# -- amounts: a currency symbol or ISO code off either end, then a number ------------------


def _symbol_arms(value: Expr, *, currency: bool) -> list[tuple[Expr, Expr]]:
    arms: list[tuple[Expr, Expr]] = []
    for symbol in sorted(CURRENCY_SYMBOLS, key=len, reverse=True):  # longest first
        code, size = CURRENCY_SYMBOLS[symbol], len(symbol)
        starts, ends = op("starts", value, symbol), op("ends", value, symbol)
        if currency:
            arms += [(starts, expr(code)), (ends, expr(code))]
        else:
            arms += [
                (starts, op("strip", op("without_first", value, size))),
                (ends, op("strip", op("without_last", value, size))),
            ]
    return arms


_head = op("before_first", r, " ")
_tail = op("after_first", r, " ")
_code = op("after_last", r, " ")
_body = op("before_last", r, " ")

_MONEY = [
    Rule("head_code", ("r",), full(_head, CURRENCY_CODE) & op("ne", _tail, "")),
    Rule("tail_code", ("r",), full(_code, CURRENCY_CODE) & op("ne", _body, "")),
    Rule(
        "split_currency",
        ("r",),
        case(
            *_symbol_arms(r, currency=True),
            (Use("head_code", (r,)), _head),
            (Use("tail_code", (r,)), _code),
        ),
    ),
    Rule(
        "without_currency",
        ("r",),
        case(
            *_symbol_arms(r, currency=False),
            (Use("head_code", (r,)), op("strip", _tail)),
            (Use("tail_code", (r,)), op("strip", _body)),
            otherwise=r,
        ),
    ),
    Rule("parenthesised", ("s",), op("starts", s, "(") & op("ends", s, ")")),
    Rule(
        "inner",
        ("s",),
        case(
            (
                Use("parenthesised", (s,)),
                op("strip", op("without_last", op("without_first", s, 1), 1)),
            ),
            otherwise=s,
        ),
    ),
    Rule(
        "unsigned",
        ("i",),
        case((op("starts", i, "-"), op("strip", op("without_first", i, 1))), otherwise=i),
    ),
    # The currency an amount names; plain digits name none.
    Rule(
        "money_currency",
        ("t",),
        case(
            (op("is_null", t) | full(t, PLAIN_DECIMAL), None),
            otherwise=let(
                "dg_r",
                let(
                    "dg_i",
                    let("dg_s", op("strip", t), lambda s: Use("inner", (s,))),
                    lambda i: Use("unsigned", (i,)),
                ),
                lambda r: Use("split_currency", (r,)),
            ),
        ),
    ),
    Rule(
        "money_rest",
        ("i",),
        op(
            "concat",
            case((op("starts", i, "-"), "-"), otherwise=""),
            let("dg_r", Use("unsigned", (i,)), lambda r: Use("without_currency", (r,))),
        ),
    ),
    # The amount without its currency, as number_text reads it (accounting parentheses kept
    # around the number, with or without a symbol).
    Rule(
        "money_number",
        ("s",),
        let(
            "dg_m",
            Use("money_rest", (Use("inner", (s,)),)),
            lambda m: case(
                (Use("parenthesised", (s,)), op("concat", op("concat", "(", m), ")")),
                otherwise=m,
            ),
        ),
    ),
    Rule(
        "money_of", ("s", "comma_decimal"), Use("number_text", (Use("money_number", (s,)), comma))
    ),
    # The amount as a plain number. Most amounts are plain digits: those skip the currency
    # and separator rules.
    Rule(
        "money_text",
        ("t", "comma_decimal"),
        case(
            (~comma & full(t, PLAIN_DECIMAL), t),
            otherwise=let(
                "dg_s",
                op("strip", t),
                lambda s: case(
                    (~comma & full(s, PLAIN_DECIMAL), s), otherwise=Use("money_of", (s, comma))
                ),
            ),
        ),
    ),
    Rule(
        "unbounded_money_text",
        ("t", "comma_decimal"),
        let(
            "dg_s",
            op("strip", t),
            lambda s: Use("unbounded_number_text", (Use("money_number", (s,)), comma)),
        ),
    ),
]

# -- percentages, flags and counts ---------------------------------------------------------


def _percent_number(text: Expr) -> Expr:
    return op("to_decimal", Use("number_text", (text, False)))


_OTHERS = [
    # 25, 25% or, where the CRM stores fractions, 0.25
    Rule(
        "percent_of",
        ("s", "fraction"),
        case(
            (op("ends", s, "%"), _percent_number(op("without_last", s, 1))),
            (fraction, op("times", _percent_number(s), 100)),
            otherwise=_percent_number(s),
        ),
    ),
    Rule(
        "percent_raw",
        ("t", "fraction"),
        let("dg_s", op("strip", t), lambda s: Use("percent_of", (s, fraction))),
    ),
    Rule("in_range", ("n",), case((op("between", n, 0, 100), op("to_double", n)))),
    Rule(
        "percent",
        ("t", "fraction"),
        case(
            (~fraction & full(t, PLAIN_DECIMAL), Use("in_range", (op("to_decimal", t),))),
            otherwise=let(
                "dg_p", Use("percent_raw", (t, fraction)), lambda p: Use("in_range", (p,))
            ),
        ),
    ),
    Rule(
        "range_issue",
        ("n",),
        case(
            (op("is_null", n), "unreadable"),
            (~op("between", n, 0, 100), "out_of_range"),
        ),
    ),
    Rule(
        "percent_issue",
        ("t", "fraction"),
        let("dg_p", Use("percent_raw", (t, fraction)), lambda p: Use("range_issue", (p,))),
    ),
    Rule(
        "bool_of",
        ("w",),
        case(
            (op("in_words", Var("w"), TRUE_WORDS), True),
            (op("in_words", Var("w"), FALSE_WORDS), False),
        ),
    ),
    Rule("bool", ("t",), let("dg_w", op("lower", op("strip", t)), lambda w: Use("bool_of", (w,)))),
    # a whole number of times, e.g. how often a close date was pushed
    Rule(
        "count",
        ("t",),
        let(
            "dg_c",
            op("to_decimal", Use("number_text", (t, False))),
            lambda c: case((op("is_whole", c) & op("le", c, MAX_COUNT), op("to_integer", c))),
        ),
    ),
]

# -- dates ---------------------------------------------------------------------------------


def _slash_date(text: Expr) -> Expr:
    """M/D/YYYY or D/M/YYYY, as the profile reads slashes (a time after the year is left)."""
    first, second = op("part", text, "/", 1), op("part", text, "/", 2)
    year = op("left", op("part", text, "/", 3), 4)
    return case(
        (month_first, op("make_date", year, first, second)),
        otherwise=op("make_date", year, second, first),
    )


def _group(text: Expr, pattern: str) -> Expr:
    return op("group", text, Pattern(pattern), 1)


_DATES = [
    # ISO, ISO with a time (its UTC date), slashes in the profile's order, dots (D.M.YYYY),
    # YYYY/M/D, and epoch milliseconds (HubSpot's API and some exports)
    Rule(
        "date_of",
        ("s", "month_first"),
        case(
            (full(s, SLASH_DATE), _slash_date(s)),
            (full(s, ISO_DATE), op("iso_date", s)),
            (op("starts_match", s, Pattern(ISO_DATE)), op("timestamp_date", s)),
            (
                full(s, DOT_DATE),
                op(
                    "make_date",
                    _group(s, r"^\d+\.\d+\.(\d+)"),
                    _group(s, r"^\d+\.(\d+)"),
                    _group(s, r"^(\d+)"),
                ),
            ),
            (
                full(s, YEAR_FIRST_SLASH_DATE),
                op(
                    "make_date",
                    _group(s, r"^(\d+)"),
                    _group(s, r"^\d+/(\d+)"),
                    _group(s, r"^\d+/\d+/(\d+)"),
                ),
            ),
            (full(s, EPOCH_MILLIS), op("epoch_millis_date", s)),
        ),
    ),
    # the two forms exports use most, with nothing to strip, go straight to a date
    Rule(
        "date",
        ("t", "month_first"),
        case(
            (full(t, ISO_DATE), op("iso_date", t)),
            (full(t, r"\d{1,2}/\d{1,2}/\d{4}"), _slash_date(t)),
            otherwise=let("dg_s", op("strip", t), lambda s: Use("date_of", (s, month_first))),
        ),
    ),
]

# -- deal ids -----------------------------------------------------------------------------

_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def _case_bits(chunk: Expr) -> Expr:
    """The five characters of a chunk as bits, bit k set when character k is upper case."""
    bits: Expr = expr(0)
    for k in range(5):
        upper = op("is_upper_letter", op("char_at", chunk, k + 1))
        bits = op("add", bits, case((upper, 1 << k), otherwise=0))
    return bits


_DEAL_IDS = [
    # One checksum character of a Salesforce id: the letter of its chunk's case bits.
    Rule(
        "sf_chunk",
        ("s",),
        let("dg_b", _case_bits(s), lambda b: op("char_at", _SUFFIX_ALPHABET, op("add", b, 1))),
    ),
    Rule(
        "sf_suffix",
        ("s",),
        op(
            "concat",
            op(
                "concat",
                Use("sf_chunk", (op("substring", s, 1, 5),)),
                Use("sf_chunk", (op("substring", s, 6, 5),)),
            ),
            Use("sf_chunk", (op("substring", s, 11, 5),)),
        ),
    ),
    # Ids that are the same deal: a Salesforce 18-character id and its 15-character form.
    # The last three characters of an 18-character id are a checksum of the case of the
    # first fifteen; only an id whose checksum holds is taken as one.
    Rule(
        "deal_key",
        ("i",),
        case(
            (
                op("eq", op("length", i), 18)
                & full(i, "[A-Za-z0-9]{18}")
                & op("search", i, Pattern("[A-Za-z]"))
                & op("eq", Use("sf_suffix", (op("left", i, 15),)), op("right", i, 3)),
                op("left", i, 15),
            ),
            otherwise=i,
        ),
    ),
]

# -- values one field gives another (DealMapper._complete, the columnar canonical query) ---

_c, _m, _d, _a = (Var(name) for name in ("c", "m", "d", "a"))
_FILLS = [
    # the export's currency column; else, for a deal whose amount was read, the currency
    # written with the amount, else the profile's default
    Rule(
        "deal_currency",
        ("c", "m", "d", "a"),
        case(
            (~op("is_null", _c), _c),
            (_a, case((~op("is_null", _m), _m), otherwise=_d)),
        ),
    ),
    # the export's manager column wins over the owner's manager from --teams
    Rule("deal_manager", ("m", "t"), case((~op("is_null", _m), _m), otherwise=Var("t"))),
]

# -- which deals an audit takes --------------------------------------------------------------

_after, _before = Var("after"), Var("before")
# --closing-after / --closing-before, both inclusive: a deal without a close date is left out
# when either is given. Inlined into the judge's SQL (cell_language.inline_sql), not a macro.
CLOSING_WINDOW = Rule(
    "closing_window",
    ("d", "after", "before"),
    case(
        (op("is_null", _d), op("is_null", _after) & op("is_null", _before)),
        (~op("is_null", _after) & op("lt", _d, _after), False),
        (~op("is_null", _before) & op("gt", _d, _before), False),
        otherwise=True,
    ),
)

RULES = (*_TEXT, *_NUMBERS, *_MONEY, *_OTHERS, *_DATES, *_DEAL_IDS, *_FILLS, CLOSING_WINDOW)
