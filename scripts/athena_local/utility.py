"""Athena's utility statements (EXPLAIN, SHOW) and its `sequence` table function.

sqlglot keeps `EXPLAIN …`, `SHOW …` and Hive's `DESCRIBE` as opaque commands, so they are
recognised here from their leading keyword and read with a small tokenizer of their own
(DESCRIBE is refused: SHOW COLUMNS answers what dbt-athena asks). The table function
`TABLE(sequence(start => a, stop => b, step => c))` is rewritten, before translation, into
the Athena query it is equivalent to: an UNNEST of the `sequence` array function, whose
one column Trino names `sequential_number`.

Result shapes are Athena's: both are UTILITY statements (neither DDL nor DML, in the
words of Athena's API reference); SHOW returns Hive DDL output (rows without a header row,
one `string` column named as Hive names it: `field`, `tab_name`, `database_name`,
`partition`); EXPLAIN one varchar column, `Query Plan`, whose first row repeats the
column's name (dbt-athena reads EXPLAIN as plain text and expects it there).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlglot import exp

from athena_local.errors import AthenaQueryError

_LEADING = re.compile(r"(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*", re.DOTALL)
_KEYWORD = re.compile(r"(explain|show|describe|desc)\b", re.IGNORECASE)
_WORD = re.compile(
    r"""\s*(?:"(?P<dq>(?:[^"]|"")*)"|`(?P<bq>[^`]*)`|'(?P<sq>(?:[^']|'')*)'|(?P<word>[\w$]+)|(?P<sym>[.,()=]))""",
)


@dataclass(frozen=True)
class Utility:
    """A utility statement: its keyword and the text after it."""

    keyword: str  # explain, show or describe
    rest: str


def utility_statement(sql: str) -> Utility | None:
    """The utility statement `sql` is, or None for every other statement."""
    start = _LEADING.match(sql)
    offset = start.end() if start else 0
    keyword = _KEYWORD.match(sql, offset)
    if keyword is None:
        return None
    word = keyword.group(1).lower()
    rest = sql[keyword.end() :].strip().rstrip(";").strip()
    return Utility("describe" if word == "desc" else word, rest)


@dataclass(frozen=True)
class Word:
    text: str
    kind: str  # name (an identifier or keyword, quoted or not), string, or symbol


def words(text: str) -> list[Word]:
    """Identifiers, string literals and . , ( ) = of a SHOW or DESCRIBE statement."""
    found: list[Word] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _WORD.match(text, position)
        if match is None or match.end() == position:
            raise AthenaQueryError(
                "SYNTAX_ERROR", f"mismatched input '{text[position:].split()[0]}'"
            )
        position = match.end()
        if match.group("dq") is not None:
            found.append(Word(match.group("dq").replace('""', '"'), "name"))
        elif match.group("bq") is not None:
            found.append(Word(match.group("bq"), "name"))
        elif match.group("sq") is not None:
            found.append(Word(match.group("sq").replace("''", "'"), "string"))
        elif match.group("word") is not None:
            found.append(Word(match.group("word"), "name"))
        else:
            found.append(Word(match.group("sym"), "symbol"))
    return found


@dataclass(frozen=True)
class ExplainRequest:
    """EXPLAIN's options and the statement it explains."""

    kind: str  # logical, distributed, validate or io
    text_format: str  # text, graphviz or json
    statement: str


_EXPLAIN_OPTIONS = re.compile(r"\(\s*(?P<options>[^)]*)\)\s*", re.DOTALL)


def explain_request(rest: str) -> ExplainRequest:
    """Read `EXPLAIN [ANALYZE] [(TYPE …, FORMAT …)] statement`; refuse what is not emulated."""
    if re.match(r"analyze\b", rest, re.IGNORECASE):
        raise AthenaQueryError(
            "NOT_SUPPORTED",
            "athena-local does not run EXPLAIN ANALYZE (it reports the costs of a real run)",
        )
    kind, text_format = "distributed", "text"
    options = _EXPLAIN_OPTIONS.match(rest)
    if options is not None:
        for option in options.group("options").split(","):
            name, _, value = option.strip().partition(" ")
            name, value = name.lower(), value.strip().lower()
            if name == "type" and value in ("logical", "distributed", "validate", "io"):
                kind = value
            elif name == "format" and value in ("text", "graphviz", "json"):
                text_format = value
            else:
                raise AthenaQueryError(
                    "SYNTAX_ERROR", f"mismatched input '{option.strip()}' in EXPLAIN options"
                )
        rest = rest[options.end() :]
    if kind == "io" or text_format != "text":
        raise AthenaQueryError(
            "NOT_SUPPORTED",
            f"athena-local explains as text only, not TYPE {kind.upper()} / "
            f"FORMAT {text_format.upper()}",
        )
    if not rest.strip():
        raise AthenaQueryError("SYNTAX_ERROR", "EXPLAIN needs a statement")
    return ExplainRequest(kind, text_format, rest)


def hive_pattern(pattern: str) -> re.Pattern[str]:
    """Athena's SHOW … LIKE 'pattern': `*` matches any characters, `|` separates
    alternatives, and the match is case-insensitive and whole."""
    alternatives = [
        ".*".join(re.escape(part) for part in alternative.strip().split("*"))
        for alternative in pattern.split("|")
    ]
    return re.compile("(?:" + "|".join(alternatives) + ")", re.IGNORECASE)


# The table function ------------------------------------------------------------------


def expand_table_functions(query: exp.Expr) -> exp.Expr:
    """`TABLE(sequence(start => a, stop => b, step => c))` as the query it stands for.

    Trino's `sequence` table function: start defaults to 0, step to 1, stop is required;
    its one column is the bigint `sequential_number`. Any other table function is refused.
    """
    for table in list(query.find_all(exp.Table)):
        call = table.this
        if not (isinstance(call, exp.Anonymous) and call.name.upper() == "TABLE"):
            continue
        inner = call.expressions[0] if len(call.expressions) == 1 else None
        if not isinstance(inner, exp.GenerateSeries):
            name = inner.sql(dialect="athena").split("(")[0] if inner is not None else "?"
            raise AthenaQueryError(
                "NOT_SUPPORTED", f"athena-local runs the table function sequence only, not {name}"
            )
        start, stop, step = _sequence_arguments(inner)
        array = exp.GenerateSeries(
            start=exp.cast(exp.Literal.number(start), "bigint"),
            end=exp.cast(exp.Literal.number(stop), "bigint"),
            step=exp.cast(exp.Literal.number(step), "bigint"),
        )
        alias = table.args.get("alias")
        columns = alias.columns if isinstance(alias, exp.TableAlias) else []
        name = columns[0].name if columns else "sequential_number"
        body = exp.select(exp.column(name)).from_(
            exp.Unnest(
                expressions=[array],
                alias=exp.TableAlias(
                    this=exp.to_identifier("sequence_rows"),
                    columns=[exp.to_identifier(name)],
                ),
            )
        )
        alias_name = alias.name if isinstance(alias, exp.TableAlias) and alias.name else None
        replacement = exp.Subquery(
            this=body,
            alias=exp.TableAlias(this=exp.to_identifier(alias_name or "sequence")),
        )
        if table is query:
            return replacement
        table.replace(replacement)
    return query


def _sequence_arguments(call: exp.GenerateSeries) -> tuple[int, int, int]:
    """start, stop and step of a sequence() call, named (=>) or by position, checked as
    Trino checks them. Table function arguments are constants; athena-local takes integer
    literals."""
    given: dict[str, int] = {}
    positional = ("start", "stop", "step")
    for index, key in enumerate(("start", "end", "step")):
        value = call.args.get(key)
        if value is None:
            continue
        name = positional[index]
        if isinstance(value, exp.Kwarg):
            name = value.this.name.lower()
            value = value.expression
            if name not in positional:
                raise AthenaQueryError(
                    "INVALID_FUNCTION_ARGUMENT", f"Unexpected argument name: {name.upper()}"
                )
        given[name] = _integer(value)
    if "stop" not in given:
        raise AthenaQueryError("MISSING_ARGUMENTS", "Missing argument: STOP")
    start, stop, step = given.get("start", 0), given["stop"], given.get("step", 1)
    if start != stop and step == 0:
        raise AthenaQueryError("INVALID_FUNCTION_ARGUMENT", "step must not be zero")
    if start != stop and (stop > start) != (step > 0):
        raise AthenaQueryError(
            "INVALID_FUNCTION_ARGUMENT",
            "sequence stop value should be greater than or equal to start value if step is "
            "greater than zero otherwise stop should be less than or equal to start",
        )
    # start == stop is one row whatever the step (DuckDB would give none for a zero step).
    return start, stop, step or 1


def _integer(value: exp.Expr) -> int:
    negative = isinstance(value, exp.Neg)
    inner = value.this if negative else value
    if isinstance(inner, exp.Paren):
        return _integer(inner.this) * (-1 if negative else 1)
    if isinstance(inner, exp.Literal) and not inner.is_string and inner.this.lstrip("-").isdigit():
        return int(inner.this) * (-1 if negative else 1)
    raise AthenaQueryError(
        "NOT_SUPPORTED",
        f"athena-local takes integer literals as sequence arguments, not {value.sql('athena')}",
    )
