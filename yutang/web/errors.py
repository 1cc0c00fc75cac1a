"""Error messages in the operator's language: pydantic's by error type, the domain's through the catalogue."""

from collections.abc import Callable

from yutang.web.i18n import N_

# pydantic error type → the console's sentence (its ctx fills the placeholders).
VALIDATION = {
    "missing": N_("This field is required."),
    "too_short": N_("Choose or enter at least %(min_length)s."),
    "too_long": N_("At most %(max_length)s."),
    "string_too_short": N_("At least %(min_length)s characters."),
    "string_too_long": N_("At most %(max_length)s characters."),
    "greater_than_equal": N_("Must be at least %(ge)s."),
    "greater_than": N_("Must be more than %(gt)s."),
    "less_than_equal": N_("Must be at most %(le)s."),
    "less_than": N_("Must be less than %(lt)s."),
    "int_parsing": N_("Enter a whole number."),
    "int_from_float": N_("Enter a whole number."),
    "float_parsing": N_("Enter a number."),
    "decimal_parsing": N_("Enter a number."),
    "bool_parsing": N_("Choose yes or no."),
    "date_parsing": N_("Enter a date."),
    "date_from_datetime_parsing": N_("Enter a date."),
    "datetime_parsing": N_("Enter a date and time."),
    "datetime_from_date_parsing": N_("Enter a date and time."),
    "time_parsing": N_("Enter a time of day (HH:MM)."),
    "enum": N_("Choose one of the options."),
    "literal_error": N_("Choose one of the options."),
    "url_parsing": N_("Enter a full web address (https://…)."),
    "url_scheme": N_("Enter a full web address (https://…)."),
    "json_invalid": N_("This is not valid JSON."),
    "string_pattern_mismatch": N_("The format is not valid."),
    "dict_type": N_("The format is not valid."),
    "list_type": N_("The format is not valid."),
}
FALLBACK = N_("This value is not valid.")
REQUIRED = VALIDATION["missing"]
# Messages the domains raise that an operator meets in the console's forms (translated through the catalogue;
# any other reaches the page as the domain wrote it).
DOMAIN = (
    N_("give body or template_id"),
    N_("a rejection needs a reason"),
    N_("quiet hours need both a start and an end"),
    N_("cap names are unique"),
    N_("this messaging channel is disabled"),
    N_("a quick reply is not broadcast"),
    N_("a hand-over goes to another staff member"),
    N_("staff belong to a store or, for region managers, a region"),
    N_("a single-person code names exactly one staff member (set multi for rotation)"),
    N_("say which channel the code acquires for (or give a store)"),
    N_("a store code names its store"),
    N_("a campaign code names its campaign"),
    N_("customers of staff who left get WeCom's own notice, not a message"),
)


def validation_message(error: dict, gettext: Callable[[str], str]) -> str:
    """One pydantic error as a sentence in the operator's language."""
    kind = error.get("type", "")
    if kind == "missing" or error.get("input") == "" or (
            kind == "string_too_short" and (error.get("ctx") or {}).get("min_length") == 1):
        return gettext(REQUIRED)
    if kind == "value_error":  # a validator's own words: "Value error, <message>"
        return domain_message(str(error.get("msg", "")).removeprefix("Value error, "), gettext)
    template = VALIDATION.get(kind)
    if template is None:
        return gettext(FALLBACK)
    try:
        return gettext(template) % dict(error.get("ctx") or {})
    except (KeyError, TypeError, ValueError):
        return gettext(FALLBACK)


def domain_message(message: str, gettext: Callable[[str], str]) -> str:
    """A domain error's message through the catalogue (unchanged when it holds no translation)."""
    return gettext(message) if message else message
