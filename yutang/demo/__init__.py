"""A seeded demo brand so the console and API have something true to show."""
