"""The two SQL functions the consensus statement needs, on both databases.

``registry_product(x)`` multiplies the factors ``1 - w_m`` exactly (decimal arithmetic, no
floating point), and ``registry_score(p)`` turns the product into ``black_score``: 100 × (1 − p)
rounded half up. On PostgreSQL they are created by a migration (an aggregate over ``numeric``
with the built-in ``numeric_mul``, and an inlinable SQL function); on SQLite they are
registered on every new connection (``registry.apps``).
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal
from typing import Any

POSTGRES_CREATE = """
CREATE OR REPLACE FUNCTION registry_score(p numeric) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS 'SELECT floor(100 * (1 - COALESCE(p, 1)) + 0.5)::integer';
DROP AGGREGATE IF EXISTS registry_product(numeric);
CREATE AGGREGATE registry_product(numeric) (SFUNC = numeric_mul, STYPE = numeric, INITCOND = '1', PARALLEL = SAFE);
"""
POSTGRES_DROP = """
DROP AGGREGATE IF EXISTS registry_product(numeric);
DROP FUNCTION IF EXISTS registry_score(numeric);
"""

_MICRO = Decimal("0.000001")


def _exact(value: Any) -> Decimal:
    # SQLite hands numbers over as floats; weights have at most 3 + 3 decimals, so rounding
    # the float's shortest repr to 6 decimals recovers the exact decimal value.
    return Decimal(repr(value) if isinstance(value, float) else str(value)).quantize(_MICRO)


class SqliteProduct:
    def __init__(self) -> None:
        self.product = Decimal(1)

    def step(self, value: Any) -> None:
        if value is not None:
            self.product *= _exact(value)

    def finalize(self) -> str:
        return str(self.product)


def sqlite_score(product: Any) -> int:
    p = Decimal(1) if product is None else Decimal(str(product))
    return int((100 * (1 - p) + Decimal("0.5")).to_integral_value(rounding=ROUND_FLOOR))


def register_sqlite_functions(connection: Any) -> None:
    connection.create_aggregate("registry_product", 1, SqliteProduct)
    connection.create_function("registry_score", 1, sqlite_score, deterministic=True)
