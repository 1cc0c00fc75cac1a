"""The OLTP store: engine, sessions, unit of work, shared column types, outbox and migrations."""
