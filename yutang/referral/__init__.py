"""Referral programmes, invite attribution, conversion rewards and KOC distribution."""
