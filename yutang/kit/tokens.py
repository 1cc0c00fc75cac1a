"""Secrets handed out once (API keys, write keys): minted with a recognisable prefix, stored only as a digest."""

import hashlib
import secrets


def mint(prefix: str, *, nbytes: int) -> str:
    """A new random secret, e.g. yt_… or ywk_…"""
    return prefix + secrets.token_urlsafe(nbytes)


def digest(secret: str) -> str:
    """The SHA-256 hex digest stored in place of the secret."""
    return hashlib.sha256(secret.encode()).hexdigest()
