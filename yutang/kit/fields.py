"""Field types every input schema uses, bounded to what the stores hold (64-bit integers on PostgreSQL)."""

from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, StrictBool

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def _no_bool(value):
    # JSON true is not the number 1; numeric text stays accepted for query strings and console forms.
    if isinstance(value, bool):
        raise ValueError("a number is expected, not true / false")
    return value


# Bounded at the schema, so a value past 64 bits is a 422 naming the field instead of an overflow in the store.
Int64 = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX), BeforeValidator(_no_bool)]
NonNegative = Annotated[int, Field(ge=0, le=INT64_MAX), BeforeValidator(_no_bool)]
Id = Annotated[int, Field(ge=1, le=INT64_MAX), BeforeValidator(_no_bool)]
Bool = StrictBool


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold U+0000; refused here so the field is named instead of the store failing.
    if "\x00" in value:
        raise ValueError("text must not contain the NUL character (U+0000)")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]


class Patch(BaseModel):
    """A partial update: an omitted field is left alone; only fields typed `X | None` may be set to null.

    Declare a field that must not become null as `name: str = Field(None, …)`: the default marks it
    optional, and an explicit null fails validation naming the field (defaults are not validated).
    """

    def changes(self) -> dict:
        """The fields the caller sent, as JSON-ready values."""
        return self.model_dump(mode="json", exclude_unset=True)
