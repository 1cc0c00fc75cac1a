"""The analytics warehouse: events plus replicas of OLTP state, on DuckDB (embedded) or PostgreSQL."""
