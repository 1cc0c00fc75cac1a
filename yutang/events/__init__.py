"""Behaviour events: Segment-compatible sources and ingest, the durable journal, loading into the warehouse."""
