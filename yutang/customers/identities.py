"""Pure rules for identities: normalising a value and deriving its lookup key (no database)."""

from email_validator import EmailNotValidError, validate_email

from yutang.customers.schemas import PERSONAL, IdentityIn, IdentityKind
from yutang.kit.pii import keyed_hash, mask_email, mask_phone, normalise_phone


def normalise(identity: IdentityIn, *, pii_key: str) -> tuple[str, str]:
    """Return (stored value, lookup key); raise ValueError when the value is not valid for its kind."""
    value = identity.value.strip()
    if identity.kind is IdentityKind.PHONE:
        value = normalise_phone(value)
    elif identity.kind is IdentityKind.EMAIL:
        try:
            value = validate_email(value, check_deliverability=False).normalized.lower()
        except EmailNotValidError as exc:
            raise ValueError(str(exc)) from exc
    lookup = keyed_hash(pii_key, value) if identity.kind in PERSONAL else value
    return value, lookup


def display(kind: str, value: str, *, see_pii: bool) -> str:
    """The value as a caller may see it: personal kinds masked unless their role may see them."""
    if see_pii:
        return value
    if kind == IdentityKind.PHONE:
        return mask_phone(value)
    if kind == IdentityKind.EMAIL:
        return mask_email(value)
    return value
