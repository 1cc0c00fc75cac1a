"""Builders and checks shared by the tests: tenants, members, customers, orders, events, segments, the console."""
