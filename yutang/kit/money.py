"""Money is integer fen; these helpers convert exact decimal yuan text without float rounding."""

from decimal import Decimal, InvalidOperation


def yuan_to_fen(value: str | int | float | Decimal) -> int:
    """Convert a yuan amount ('12.30', 12.3) to integer fen; more than 2 decimals is an error."""
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise ValueError(f"more precision than a fen: {value!r}")
    return int(fen)


def fen_to_yuan_text(fen: int) -> str:
    """Format fen as yuan text with two decimals, e.g. 1230 -> '12.30'."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"
