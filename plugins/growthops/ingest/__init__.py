"""Ingestion: landing files -> raw gate -> DuckDB raw tables, with a ledger, rejects and quarantine."""
