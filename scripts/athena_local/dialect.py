"""Athena SQL in, DuckDB SQL out, with Athena's errors and Athena's meaning.

Every statement is parsed as Athena SQL (sqlglot's `athena` dialect: Hive DDL, Trino
everything else). Queries are then checked the way Athena checks them (functions Trino
does not have, DuckDB-only syntax, columns that do not resolve) and translated with their
types annotated, so that integer division truncates, `sum` of integers is a `bigint` and
`date_trunc` of a date is a date, as on Athena.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError, ParseError, TokenError
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify
from sqlglot.tokenizer_core import Token, TokenType

from athena_local import semantics
from athena_local.errors import USER_ERROR_CATEGORY as USER_ERROR_CATEGORY  # noqa: PLC0414 - re-exported
from athena_local.errors import AthenaQueryError as AthenaQueryError  # noqa: PLC0414 - re-exported
from athena_local.errors import fail
from athena_local.functions import TRINO_FUNCTIONS

# Words that may stand before "(" without being a function call.
_NOT_FUNCTIONS = frozenset(
    [
        "all",
        "and",
        "any",
        "array",
        "as",
        "between",
        "by",
        "case",
        "char",
        "decimal",
        "distinct",
        "else",
        "end",
        "except",
        "exists",
        "filter",
        "from",
        "having",
        "in",
        "intersect",
        "interval",
        "is",
        "join",
        "lateral",
        "like",
        "map",
        "not",
        "on",
        "or",
        "over",
        "row",
        "select",
        "some",
        "table",
        "then",
        "time",
        "timestamp",
        "union",
        "unnest",
        "using",
        "values",
        "varbinary",
        "varchar",
        "view",
        "when",
        "where",
        "with",
        "within",
        "into",
        "insert",  # MERGE's `then insert (columns)`
        "partitioned_by",
        "bucketed_by",
        "set",
        "tblproperties",
    ]
)
# DuckDB's `select * exclude (...)` and friends; Trino has none of them.
_STAR_MODIFIERS = frozenset({"exclude", "replace", "rename", "except"})
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_OPTIMIZER_POSITION = re.compile(r"Line: (\d+), Col: (\d+)")
_INTEGER_TYPES = (
    exp.DataType.Type.TINYINT,
    exp.DataType.Type.SMALLINT,
    exp.DataType.Type.INT,
    exp.DataType.Type.BIGINT,
)

_PARSER_FUNCTIONS = frozenset(sqlglot.Dialect.get_or_raise("athena").parser_class.FUNCTIONS)
_DATE_UNITS = frozenset({"day", "week", "month", "quarter", "year"})
Schema = dict[str, Any]  # {database: {table: {column: type}}}


# What the binary-literal scanner steps over whole: strings, quoted names, comments.
_SKIPPED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/", re.DOTALL)
_BINARY_LITERAL = re.compile(r"(?<![A-Za-z0-9_])[xX]'([^']*)'")


def binary_literals(sql: str) -> str:
    """``X'68 65'`` as ``X'6865'``: Trino drops whitespace inside a binary literal, and
    sqlglot's tokenizer refuses it. Strings, quoted names and comments are left as they are.
    """
    if not _BINARY_LITERAL.search(sql):
        return sql
    out: list[str] = []
    position = 0
    while position < len(sql):
        binary = _BINARY_LITERAL.match(sql, position)
        if binary:
            digits = re.sub(r"[ \r\n\t]", "", binary.group(1))
            if not re.fullmatch(r"[0-9A-Fa-f]*", digits):
                raise AthenaQueryError(
                    "SYNTAX_ERROR", "Binary literal can only contain hexadecimal digits"
                )
            if len(digits) % 2:
                raise AthenaQueryError(
                    "SYNTAX_ERROR", "Binary literal must contain an even number of digits"
                )
            out.append(f"X'{digits}'")
            position = binary.end()
            continue
        skipped = _SKIPPED.match(sql, position)
        end = skipped.end() if skipped else position + 1
        out.append(sql[position:end])
        position = end
    return "".join(out)


def parse(sql: str) -> exp.Expr:
    """Parse one Athena statement, or fail as Athena does on bad syntax."""
    sql = binary_literals(sql)
    try:
        statements = [s for s in sqlglot.parse(sql, read="athena") if s is not None]
    except (ParseError, TokenError) as error:
        raise _syntax_error(error) from error
    if len(statements) != 1:
        raise AthenaQueryError("SYNTAX_ERROR", "Only one sql statement is allowed")
    return statements[0]


def check_query(sql: str, statement: exp.Expr) -> None:
    """Reject DuckDB-only syntax and calls to functions Trino does not register.

    The parse tree says what is a call (sqlglot keeps unknown functions as Anonymous and
    maps known names, `ifnull` included, to typed nodes); the tokens say what name was
    written and where, which the tree does not keep.
    """
    called = {node.name.lower() for node in statement.find_all(exp.Anonymous)}
    tokens = sqlglot.tokenize(binary_literals(sql), read="athena")
    for index, token in enumerate(tokens):
        if token.token_type == TokenType.DCOLON:
            raise AthenaQueryError(
                "SYNTAX_ERROR", "mismatched input '::'", token.line, _column(token)
            )
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if following is None or following.token_type != TokenType.L_PAREN:
            continue
        previous = tokens[index - 1] if index else None
        if (
            previous is not None
            and previous.token_type == TokenType.STAR
            and token.text.lower() in _STAR_MODIFIERS
        ):
            raise AthenaQueryError(
                "SYNTAX_ERROR",
                f"mismatched input '{token.text}'",
                token.line,
                _column(token),
            )
        if _is_function_call(token, previous):
            name = token.text.lower()
            is_call = name in called or name.upper() in _PARSER_FUNCTIONS
            if is_call and name not in TRINO_FUNCTIONS:
                raise AthenaQueryError(
                    "FUNCTION_NOT_FOUND",
                    f"Function '{name}' not registered",
                    token.line,
                    _column(token),
                )


def _is_function_call(token: Token, previous: Token | None) -> bool:
    if token.token_type in (TokenType.IDENTIFIER, TokenType.STRING):
        return False
    if not _NAME.match(token.text) or token.text.lower() in _NOT_FUNCTIONS:
        return False
    return previous is None or previous.token_type not in (
        TokenType.INTO,
        TokenType.TABLE,
        TokenType.VIEW,
        TokenType.WITH,
        TokenType.DOT,
        TokenType.ALIAS,  # `as t (a, b)`: a column list, not a call
    )


def referenced_tables(query: exp.Expr, default_database: str) -> set[tuple[str, str]]:
    """The (database, table) pairs a query reads, CTE names excluded."""
    ctes = {cte.alias_or_name.lower() for cte in query.find_all(exp.CTE)}
    found: set[tuple[str, str]] = set()
    for table in query.find_all(exp.Table):
        name = table.name.lower()
        if not name or (not table.db and name in ctes):
            continue
        found.add(((table.db or default_database).lower(), name))
    return found


def to_duckdb(query: exp.Expr, schema: Schema, default_database: str) -> str:
    """Translate a query to DuckDB SQL that computes what Athena would."""
    query = query.copy()
    for table in query.find_all(exp.Table):
        if table.catalog.lower() == "awsdatacatalog":
            table.set("catalog", None)
    for subquery in list(query.find_all(exp.Subquery)):
        if isinstance(subquery.this, exp.Table) and not subquery.args.get("pivots"):
            # Trino reads `from (db.t)` as the table; DuckDB refuses a parenthesised name.
            table = subquery.this.copy()
            if subquery.alias:
                table.set("alias", exp.TableAlias(this=exp.to_identifier(subquery.alias)))
            subquery.replace(table)
    try:
        qualified = qualify(
            query,
            schema=schema,
            db=default_database,
            dialect="athena",
            validate_qualify_columns=True,
            quote_identifiers=True,
        )
    except OptimizeError as error:
        raise _resolution_error(error) from error
    rewritten = _bottom_up(qualified, _trino_functions)
    typed = annotate_types(rewritten, schema=schema, dialect="athena")
    _check_operand_types(typed)
    kept = _bottom_up(typed, _athena_types)
    return _carried_json(annotate_types(kept, schema=schema, dialect="athena")).sql(
        dialect="duckdb"
    )


def _carried_json(query: exp.Expr) -> exp.Expr:
    """A json result column as a one-member union named json (types.py reports it so):
    DuckDB hands JSON to Arrow as plain text, which would be reported as varchar."""
    if isinstance(query, exp.SetOperation):
        _carried_json(query.this)
        _carried_json(query.expression)
    elif isinstance(query, exp.Subquery):
        _carried_json(query.this)
    elif isinstance(query, exp.Select):
        for projection in query.expressions:
            value = projection.this if isinstance(projection, exp.Alias) else projection
            if value.is_type(exp.DataType.Type.JSON):
                member = exp.PropertyEQ(this=exp.to_identifier("json"), expression=value.copy())
                value.replace(exp.Anonymous(this="union_value", expressions=[member]))
    return query


def _bottom_up(tree: exp.Expr, rewrite: Callable[[exp.Expr], exp.Expr]) -> exp.Expr:
    """Apply rewrite to every node, children before parents, so that a parent's rewrite
    (which may copy its children) sees them already rewritten."""
    for node in reversed(list(tree.walk(bfs=False))):
        new = rewrite(node)
        if new is not node:
            if node is tree:
                tree = new
            else:
                node.replace(new)
    return tree


def _trino_functions(node: exp.Expr) -> exp.Expr:
    """Trino functions DuckDB lacks (sqlglot leaves them as they are), by their meaning."""
    literal = semantics.number_literal(node)
    if literal is not None:
        # Typed before the types are annotated, so that VALUES columns carry them.
        return literal
    if isinstance(node, exp.Chr):
        # Trino's chr takes a bigint code point; DuckDB's an integer.
        return exp.Chr(
            expressions=[exp.cast(a, exp.DataType.build("int")) for a in node.expressions]
        )
    if not isinstance(node, exp.Anonymous):
        return node
    name, args = node.name.lower(), node.expressions
    if name == "at_timezone" and len(args) == 2:
        return exp.AtTimeZone(this=args[0], zone=args[1])
    if name == "to_milliseconds" and len(args) == 1:
        # Trino: milliseconds in an interval, as bigint.
        seconds = exp.Anonymous(this="epoch", expressions=[args[0]])
        millis = exp.Round(this=exp.Mul(this=seconds, expression=exp.Literal.number(1000)))
        return exp.cast(millis, exp.DataType.build("bigint"))
    return node


_COMPARISONS: dict[type[exp.Expr], str] = {
    exp.EQ: "=",
    exp.NEQ: "<>",
    exp.GT: ">",
    exp.GTE: ">=",
    exp.LT: "<",
    exp.LTE: "<=",
}


_ARITHMETIC: dict[type[exp.Expr], str] = {
    exp.Add: "+",
    exp.Sub: "-",
    exp.Mul: "*",
    exp.Div: "/",
    exp.Mod: "%",
}


def _kind(node: exp.Expr) -> str | None:
    """'text', 'number', 'time' or 'boolean' for a node of known type, else None."""
    dtype = node.type
    if dtype is None:
        return None
    if dtype.this in exp.DataType.TEXT_TYPES:
        return "text"
    if dtype.this in exp.DataType.NUMERIC_TYPES:
        return "number"
    if dtype.this in exp.DataType.TEMPORAL_TYPES:
        return "time"
    if dtype.this == exp.DataType.Type.BOOLEAN:
        return "boolean"
    return None


def _check_operand_types(query: exp.Expr) -> None:
    """Trino does not convert between text and other types: `date_col = '2024-01-01'`,
    `1 = '1'`, `'a' || 1` fail on Athena, though DuckDB would cast and carry on."""
    for node in query.walk():
        pairs: list[tuple[str, exp.Expr, exp.Expr]] = []
        if type(node) in _COMPARISONS:
            pairs.append((_COMPARISONS[type(node)], node.this, node.expression))
        elif isinstance(node, exp.In):
            pairs += [("IN", node.this, value) for value in node.expressions]
        elif isinstance(node, exp.Between):
            pairs += [
                ("BETWEEN", node.this, node.args["low"]),
                ("BETWEEN", node.this, node.args["high"]),
            ]
        elif isinstance(node, exp.DPipe) and not any(
            side.is_type(exp.DataType.Type.ARRAY) for side in (node.this, node.expression)
        ):
            # `array || element` is array concatenation, not text.
            for side in (node.this, node.expression):
                kind = _kind(side)
                if kind is not None and kind != "text":
                    raise AthenaQueryError(
                        "TYPE_MISMATCH",
                        f"Unexpected parameters ({_type_name(node.this)}, "
                        f"{_type_name(node.expression)}) for function concat. "
                        "Expected: concat(varchar)",
                    )
        elif type(node) in _ARITHMETIC:
            kinds = {_kind(node.this), _kind(node.expression)}
            if "text" in kinds and None not in kinds and kinds != {"text"}:
                raise AthenaQueryError(
                    "TYPE_MISMATCH",
                    f"Cannot apply operator: {_type_name(node.this)} {_ARITHMETIC[type(node)]} "
                    f"{_type_name(node.expression)}",
                )
        elif (
            isinstance(node, exp.If)
            and not isinstance(node.parent, exp.Case)
            and _kind(node.this) in ("text", "number", "time")
        ):
            raise AthenaQueryError(
                "TYPE_MISMATCH",
                f"IF condition must evaluate to a boolean: actual type {_type_name(node.this)}",
            )
        for operator, left, right in pairs:
            kinds = {_kind(left), _kind(right)}
            if None not in kinds and len(kinds) > 1 and "text" in kinds:
                raise AthenaQueryError(
                    "TYPE_MISMATCH",
                    f"'{operator}' cannot be applied to {_type_name(left)}, {_type_name(right)}",
                )


def _type_name(node: exp.Expr) -> str:
    return node.type.sql(dialect="athena").lower() if node.type is not None else "unknown"


def _integer_division(node: exp.Div) -> exp.Expr:
    """Trino's integer division: truncates toward zero, keeps the wider operand's type,
    and fails on a zero divisor (DuckDB would return NULL)."""
    wide = max(_INTEGER_TYPES.index(side.type.this) for side in (node.this, node.expression))
    zero = exp.EQ(this=node.expression.copy(), expression=exp.Literal.number(0))
    failure = fail("DIVISION_BY_ZERO", "Division by zero")
    divisor = exp.Case(ifs=[exp.If(this=zero, true=failure)], default=node.expression.copy())
    # DuckDB's // on integers truncates toward zero, as Trino's / does. The divisor appears
    # once: DuckDB hoists repeated subexpressions out of TRY, which would let the failure
    # escape Trino's try().
    quotient = exp.IntDiv(this=node.this.copy(), expression=divisor)
    return exp.cast(quotient, exp.DataType.build(_INTEGER_TYPES[wide].value))


def _integer_sum(node: exp.Expr) -> bool:
    if isinstance(node, exp.Filter):
        node = node.this
    return isinstance(node, exp.Sum) and node.this.is_type(*_INTEGER_TYPES)


def _athena_types(node: exp.Expr) -> exp.Expr:  # noqa: PLR0911 - one return per rule
    """Where DuckDB's result type differs from Trino's, compute Trino's."""
    new = semantics.rewrite(node)
    if new is not node:
        return new
    if isinstance(node, exp.RegexpReplace) and isinstance(
        node.args.get("replacement"), exp.Literal
    ):
        # Trino refers to groups as $1, DuckDB (RE2) as \1.
        replacement = node.args["replacement"]
        text = re.sub(r"\$(\d)", r"\\\1", replacement.this)
        node.set("replacement", exp.Literal.string(text))
        return node
    if _integer_sum(node) and not isinstance(node.parent, exp.Window | exp.Filter):
        # Trino: sum of integers is bigint; DuckDB widens to hugeint. The cast goes
        # around `sum(x) filter (...) over (...)` as a whole.
        return exp.cast(node, exp.DataType.build("bigint"))
    if isinstance(node, exp.Window) and _integer_sum(node.this):
        return exp.cast(node, exp.DataType.build("bigint"))
    if isinstance(node, exp.DateDiff):
        # Trino counts whole units elapsed (01-15 to 03-14 is 1 month); DuckDB's
        # date_diff counts boundaries crossed (2). DuckDB's date_sub counts like Trino.
        unit = exp.Literal.string(node.text("unit").lower() or "day")
        return exp.Anonymous(this="date_sub", expressions=[unit, node.expression, node.this])
    if (
        isinstance(node, exp.Add | exp.Sub)
        and node.this.is_type(exp.DataType.Type.DATE)
        and isinstance(node.expression, exp.Interval)
        and node.expression.text("unit").lower() in _DATE_UNITS
    ):
        # Trino: a date plus or minus days, months or years is a date.
        return exp.cast(node, exp.DataType.build("date"))
    if (
        isinstance(node, exp.Div)
        and node.this.is_type(*_INTEGER_TYPES)
        and node.expression.is_type(*_INTEGER_TYPES)
    ):
        return _integer_division(node)
    if isinstance(node, exp.TimestampTrunc | exp.DateTrunc) and node.this.is_type(
        exp.DataType.Type.DATE
    ):
        # Trino: date_trunc of a date is a date; DuckDB returns a timestamp.
        return exp.cast(node, exp.DataType.build("date"))
    if (
        isinstance(node, exp.DateAdd | exp.DateSub)
        and node.this.is_type(exp.DataType.Type.DATE)
        and node.text("unit").lower() in _DATE_UNITS
    ):
        # Trino: date_add of days, weeks, months or years to a date is a date.
        return exp.cast(node, exp.DataType.build("date"))
    if (
        isinstance(node, exp.Sub)
        and node.this.is_type(exp.DataType.Type.DATE)
        and node.expression.is_type(exp.DataType.Type.DATE)
    ):
        # Trino: date - date is an interval day to second; DuckDB returns whole days.
        days = exp.cast(node.copy(), exp.DataType.build("int"))
        return exp.Anonymous(this="to_days", expressions=[days])
    return node


_VIEW_PREFIX = re.compile(
    r"^(?:\s|--[^\n]*\n|/\*.*?\*/)*create\s+(?:or\s+replace\s+)?view\s+"
    r"(?:\"[^\"]*\"|`[^`]*`|\w+)(?:\s*\.\s*(?:\"[^\"]*\"|`[^`]*`|\w+))*\s+as\s+",
    re.IGNORECASE | re.DOTALL,
)


def view_body(sql: str, body: exp.Expr) -> str:
    """The text after `create view ... as`, as Athena keeps it for the view."""
    match = _VIEW_PREFIX.match(sql)
    return sql[match.end() :].strip().rstrip(";") if match else body.sql(dialect="athena")


def _resolution_error(error: OptimizeError) -> AthenaQueryError:
    text = str(error)
    match = _OPTIMIZER_POSITION.search(text)
    line, column = (int(match.group(1)), int(match.group(2))) if match else (None, None)
    column_match = re.search(r"Column '([^']+)' could not be resolved", text)
    if column_match:
        name = column_match.group(1)
        # sqlglot points at the name's last character, Athena at its first.
        start = None if column is None else max(1, column - len(name.split(".")[-1]) + 1)
        return AthenaQueryError(
            "COLUMN_NOT_FOUND", f"Column '{name}' cannot be resolved", line, start
        )
    if "ambiguous" in text.lower():
        return AthenaQueryError("AMBIGUOUS_NAME", _OPTIMIZER_POSITION.sub("", text).strip(" ."))
    return AthenaQueryError("SYNTAX_ERROR", _OPTIMIZER_POSITION.sub("", text).strip(" ."))


def _syntax_error(error: ParseError | TokenError) -> AthenaQueryError:
    if isinstance(error, ParseError) and error.errors:
        first = error.errors[0]
        return AthenaQueryError(
            "SYNTAX_ERROR",
            str(first.get("description", "mismatched input")),
            first.get("line"),
            first.get("col"),
        )
    return AthenaQueryError("SYNTAX_ERROR", str(error))


def _column(token: Token) -> int:
    # sqlglot's col is the 1-based position of the token's last character.
    return max(1, token.col - len(token.text) + 1)
