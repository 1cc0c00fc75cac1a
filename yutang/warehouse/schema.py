"""The warehouse's own schema: events and the replicas analytics reads. Created idempotently on open."""

import pyarrow as pa

# The events table as Arrow columns (JSON columns travel as JSON text), for the loader and bulk loads.
EVENTS_ARROW = pa.schema([
    pa.field("workspace_id", pa.int64(), nullable=False), pa.field("message_id", pa.string(), nullable=False),
    pa.field("type", pa.string(), nullable=False), pa.field("event", pa.string()),
    pa.field("customer_id", pa.int64()), pa.field("user_id", pa.string()), pa.field("anonymous_id", pa.string()),
    pa.field("properties", pa.string()), pa.field("context", pa.string()),
    pa.field("ts", pa.timestamp("us", tz="UTC"), nullable=False),
    pa.field("received_at", pa.timestamp("us", tz="UTC"), nullable=False),
    pa.field("source", pa.string(), nullable=False),
])

# {json} is JSON on DuckDB and JSONB on PostgreSQL; everything else is portable SQL.
TABLES = [
    """CREATE TABLE IF NOT EXISTS events (
        workspace_id BIGINT NOT NULL,
        message_id VARCHAR NOT NULL,
        type VARCHAR NOT NULL,
        event VARCHAR,
        customer_id BIGINT,
        user_id VARCHAR,
        anonymous_id VARCHAR,
        properties {json},
        context {json},
        ts TIMESTAMPTZ NOT NULL,
        received_at TIMESTAMPTZ NOT NULL,
        source VARCHAR NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS customers (
        workspace_id BIGINT NOT NULL,
        id BIGINT PRIMARY KEY,
        status VARCHAR NOT NULL,
        gender VARCHAR,
        birthday DATE,
        province VARCHAR,
        city VARCHAR,
        first_channel_id BIGINT,
        source_campaign VARCHAR,
        merged_into_id BIGINT,
        refuses_personalised BOOLEAN NOT NULL,
        assigned_member_id BIGINT,
        first_seen_at TIMESTAMPTZ,
        updated_at TIMESTAMPTZ NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS identities (
        workspace_id BIGINT NOT NULL,
        customer_id BIGINT NOT NULL,
        kind VARCHAR NOT NULL,
        namespace VARCHAR NOT NULL,
        PRIMARY KEY (customer_id, kind, namespace)
    )""",
    """CREATE TABLE IF NOT EXISTS customer_tags (
        workspace_id BIGINT NOT NULL,
        customer_id BIGINT NOT NULL,
        tag_id BIGINT NOT NULL,
        added_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (customer_id, tag_id)
    )""",
    """CREATE TABLE IF NOT EXISTS memberships (
        workspace_id BIGINT NOT NULL,
        customer_id BIGINT NOT NULL,
        channel_id BIGINT NOT NULL,
        joined_at TIMESTAMPTZ NOT NULL,
        left_at TIMESTAMPTZ,
        PRIMARY KEY (customer_id, channel_id)
    )""",
    # Customers in WeCom customer groups (the groups domain's Group Joined / Left), for segments.
    """CREATE TABLE IF NOT EXISTS group_members (
        workspace_id BIGINT NOT NULL,
        customer_id BIGINT NOT NULL,
        group_id BIGINT NOT NULL,
        owner_userid VARCHAR NOT NULL,
        joined_at TIMESTAMPTZ NOT NULL,
        left_at TIMESTAMPTZ,
        PRIMARY KEY (customer_id, group_id)
    )""",
    """CREATE TABLE IF NOT EXISTS orders (
        workspace_id BIGINT NOT NULL,
        id BIGINT PRIMARY KEY,
        customer_id BIGINT,
        channel_id BIGINT NOT NULL,
        external_id VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        total_fen BIGINT NOT NULL,
        paid_fen BIGINT NOT NULL,
        refunded_fen BIGINT NOT NULL,
        placed_at TIMESTAMPTZ NOT NULL,
        paid_at TIMESTAMPTZ
    )""",
    """CREATE TABLE IF NOT EXISTS order_lines (
        workspace_id BIGINT NOT NULL,
        order_id BIGINT NOT NULL,
        line_no INTEGER NOT NULL,
        sku VARCHAR NOT NULL,
        category VARCHAR,
        quantity INTEGER NOT NULL,
        amount_fen BIGINT NOT NULL,
        PRIMARY KEY (order_id, line_no)
    )""",
    # Computed in the warehouse by the lifecycle domain (stage, RFM, value); segments read it.
    """CREATE TABLE IF NOT EXISTS customer_scores (
        workspace_id BIGINT NOT NULL,
        customer_id BIGINT PRIMARY KEY,
        lifecycle_stage VARCHAR NOT NULL,
        rfm_r SMALLINT,
        rfm_f SMALLINT,
        rfm_m SMALLINT,
        rfm_class VARCHAR,
        historic_value_fen BIGINT NOT NULL,
        predicted_value_fen BIGINT,
        computed_at TIMESTAMPTZ NOT NULL
    )""",
    # The consent in force per (customer, channel): the latest ledger entry (segments read it).
    """CREATE TABLE IF NOT EXISTS consents (
        workspace_id BIGINT NOT NULL,
        customer_id BIGINT NOT NULL,
        channel VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        occurred_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (customer_id, channel)
    )""",
    # Materialised membership of dynamic segments, and every entry and exit (written by the segments domain).
    """CREATE TABLE IF NOT EXISTS segment_members (
        workspace_id BIGINT NOT NULL,
        segment_id BIGINT NOT NULL,
        customer_id BIGINT NOT NULL,
        entered_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (segment_id, customer_id)
    )""",
    """CREATE TABLE IF NOT EXISTS segment_history (
        workspace_id BIGINT NOT NULL,
        segment_id BIGINT NOT NULL,
        customer_id BIGINT NOT NULL,
        seq INTEGER NOT NULL,
        change VARCHAR NOT NULL,
        changed_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (segment_id, customer_id, seq)
    )""",
    """CREATE TABLE IF NOT EXISTS ingest_checkpoint (
        journal VARCHAR PRIMARY KEY,
        segment BIGINT NOT NULL,
        "offset" BIGINT NOT NULL
    )""",
]

INDEXES = [
    "CREATE INDEX IF NOT EXISTS ix_events_customer ON events (workspace_id, customer_id, ts)",
    "CREATE INDEX IF NOT EXISTS ix_events_message ON events (workspace_id, message_id)",
    "CREATE INDEX IF NOT EXISTS ix_orders_customer ON orders (workspace_id, customer_id)",
]


# Replicas written before every paid order carried paid_at (OLTP migration 0009 did the same there).
UPGRADES = [
    "UPDATE orders SET paid_at = placed_at WHERE paid_at IS NULL "
    "AND status IN ('paid', 'shipped', 'completed', 'partially_refunded', 'refunded')",
]


def statements(json_type: str, *, with_indexes: bool) -> list[str]:
    """DDL for one backend, then the idempotent upgrades of rows written by earlier versions."""
    ddl = [table.format(json=json_type) for table in TABLES]
    return ddl + (INDEXES if with_indexes else []) + UPGRADES
