"""Channel secrets encrypted at rest with a key derived from YUTANG_SECRET_KEY (Fernet: AES-CBC + HMAC)."""

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken


def _fernet(secret_key: str) -> Fernet:
    digest = hashlib.sha256(b"yutang/messaging/secrets\0" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(secret_key: str, values: dict[str, str]) -> str:
    """Encrypt a dict of secrets."""
    return _fernet(secret_key).encrypt(json.dumps(values).encode()).decode() if values else ""


def unseal(secret_key: str, token: str) -> dict[str, str]:
    """Decrypt secrets sealed with the same key."""
    if not token:
        return {}
    try:
        return json.loads(_fernet(secret_key).decrypt(token.encode()))
    except InvalidToken as exc:
        raise ValueError("channel secrets cannot be read: YUTANG_SECRET_KEY changed? Set them again") from exc
