"""Touchpoints: the brand's pools (service account, mini program, WeCom, stores, marketplace shops …) and their costs."""
