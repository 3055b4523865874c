"""Every query of the CUR library parses as Trino SQL (what Athena runs), with sqlglot's trino
dialect. The SQL comes from tests/templates/fixtures/cur_queries.json, which the Rust test
tests/tests/cur_sql.rs keeps identical to the code (`costradar cur queries --json`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

QUERIES = json.loads((Path(__file__).parent / "fixtures" / "cur_queries.json").read_text())

# Functions the library may call that sqlglot keeps as anonymous calls: each is a documented
# Trino function (https://trino.io/docs/current/functions/list.html).
TRINO_FUNCTIONS = {"SPLIT_PART", "MAP_KEYS", "ARRAY_JOIN", "ARRAY_SORT", "DATE_TRUNC", "SUBSTR", "COALESCE"}


def athena_text(q: dict) -> str:
    """The text Athena executes: ExecutionParameters replace the `?` in order, as quoted literals."""
    sql = q["sql"]
    assert sql.count("?") == len(q["params"]), q["name"]
    for p in q["params"]:
        sql = sql.replace("?", "'" + p.replace("'", "''") + "'", 1)
    return sql


def test_there_are_queries_for_both_schemas():
    names = {(q["schema"], q["name"]) for q in QUERIES}
    assert ("cur2", "spend_monthly") in names and ("focus", "spend_monthly") in names
    assert len(QUERIES) >= 13


@pytest.mark.parametrize("q", QUERIES, ids=lambda q: f"{q['schema']}-{q['name']}")
def test_parses_as_trino(q):
    for text in (q["sql"], athena_text(q)):
        tree = sqlglot.parse_one(text, read="trino", error_level=ErrorLevel.RAISE)
        assert isinstance(tree, exp.Select), q["name"]
    tree = sqlglot.parse_one(athena_text(q), read="trino")
    # One statement, a CTE over the CUR table filtered on the billing period.
    assert ";" not in q["sql"]
    cte = tree.find(exp.CTE)
    assert cte is not None and cte.alias == "li"
    where = cte.this.args.get("where")
    assert where is not None and where.find(exp.Between) is not None, "every query filters on the billing period"
    tables = {t.name for t in tree.find_all(exp.Table)} - {"li", "w"}
    assert tables == {"cur"}, tables
    unknown = {f.name.upper() for f in tree.find_all(exp.Anonymous)} - TRINO_FUNCTIONS
    assert not unknown, f"functions sqlglot does not know as Trino: {unknown}"
    # And it survives a round trip through the dialect unchanged in meaning (re-parses).
    sqlglot.parse_one(tree.sql(dialect="trino"), read="trino", error_level=ErrorLevel.RAISE)
