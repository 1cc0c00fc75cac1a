"""Webhooks: integrators subscribe URLs to Yutang's own events, delivered signed, retried and logged."""
