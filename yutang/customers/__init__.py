"""The customer pool: one customer per person, their identities, channel memberships, consents and notes."""
