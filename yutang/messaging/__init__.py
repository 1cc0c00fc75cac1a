"""Two-way messaging: channel adapters, messages with delivery tracking, templates, the customer-service inbox."""
