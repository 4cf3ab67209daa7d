"""Moving a bot's whole state from one store to another (`socialbot migrate-store`): SQLite to PostgreSQL
when a municipality outgrows one machine. Every table, every row, in one transaction on the target."""

from __future__ import annotations

from bot.storage.base import Store


class CopyRefused(Exception):
    """The copy was not started (the reason is a sentence for the person running it)."""


def copy_store(source: Store, target: Store) -> dict[str, int]:
    """Copy every table of `source` into the empty `target`; rows per table. Both are opened (and so
    migrated) first, so their schemas are the newest of this code; a target with data is refused rather
    than merged, and a failure half-way leaves the target as it was."""
    if source.version != target.version:
        raise CopyRefused(f"schema versions differ: {source.version} here, {target.version} there")
    tables = source.tables()
    missing = sorted(set(tables) - set(target.tables()))
    if missing:
        raise CopyRefused(f"the target has no table {', '.join(missing)}")
    counts: dict[str, int] = {}
    with target.transaction():
        for table in tables:
            if target.query(f"SELECT 1 FROM {table} LIMIT 1"):
                raise CopyRefused(f"the target already has data in {table}: copy only into a new database")
        for table in tables:
            wanted = set(target.columns(table))
            columns = [c for c in source.columns(table) if c in wanted]
            counts[table] = 0
            for batch in source.rows(table, columns):
                target.insert_rows(table, columns, batch)
                counts[table] += len(batch)
    return counts
