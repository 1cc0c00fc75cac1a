"""Stores, their staff, customer ownership, channel QR codes and hand-overs."""
