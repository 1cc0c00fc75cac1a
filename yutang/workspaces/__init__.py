"""Workspaces (one per brand), their members and API keys, roles, and the audit log."""
