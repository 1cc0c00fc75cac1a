"""Local servers that speak the channels' documented wire formats, for the adapter tests."""
