"""Yutang: a brand's private-domain customer operations platform."""

__version__ = "0.1.0"
