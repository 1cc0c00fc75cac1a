"""Loyalty: the points ledger with expiring lots, earn rules, tiers, coupons and point tasks with proof."""
