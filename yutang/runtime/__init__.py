"""Composition root: every domain's models in one metadata, the database handle and migrations."""
