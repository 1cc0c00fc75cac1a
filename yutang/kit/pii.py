"""Personal data helpers (PIPL): E.164 phones, keyed HMAC for matching, masking for display."""

import hashlib
import hmac

import phonenumbers

DEFAULT_REGION = "CN"


def normalise_phone(raw: str, *, region: str = DEFAULT_REGION) -> str:
    """Return the phone number in E.164; raise ValueError when it is not a valid number."""
    try:
        parsed = phonenumbers.parse(raw.strip(), region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {raw!r}") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError(f"not a valid phone number: {raw!r}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def keyed_hash(secret: str, value: str) -> str:
    """HMAC-SHA256 of a normalised identifier, hex; equal inputs match without revealing the value."""
    return hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()


def mask_phone(e164: str) -> str:
    """Show a phone as 138****1234 (national number, middle four hidden)."""
    national = e164
    if e164.startswith("+"):
        parsed = phonenumbers.parse(e164)
        national = str(parsed.national_number)
    if len(national) <= 7:
        return national[:2] + "*" * (len(national) - 2)
    return f"{national[:3]}****{national[-4:]}"


def mask_email(email: str) -> str:
    """Show an email as a***@example.com."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_name(name: str) -> str:
    """Show a name with all but its first character hidden: 张** / J***."""
    if not name:
        return name
    return name[0] + "*" * max(len(name) - 1, 2)
