"""Journeys (SOP automation): a graph of steps customers move through, with durable waits."""
