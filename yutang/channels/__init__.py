"""Touchpoints: the brand's pools (service account, mini program, WeCom, stores, shops …) and their costs."""
