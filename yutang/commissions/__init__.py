"""One commission ledger for distributors, guides and group-buy leaders."""
