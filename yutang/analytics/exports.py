"""The reports as tables (a header and rows) for CSV export, the same for the API and the console."""

from collections.abc import Iterator

from yutang.analytics.schemas import CategoryFitOut, CrossSellOut

RULE_COLUMNS = ["antecedent", "consequent", "baskets", "antecedent_baskets", "consequent_baskets", "support",
                "confidence", "lift"]
FIT_COLUMNS = ["category", "buyers", "repeat_buyers", "median_days_between", "messages", "replies", "events",
               "interaction_per_buyer", "high_frequency", "high_interaction", "quadrant"]


def rule_rows(report: CrossSellOut) -> Iterator[list]:
    """One row per rule, ratios to six places."""
    for r in report.rules:
        yield [r.antecedent, r.consequent, r.baskets, r.antecedent_baskets, r.consequent_baskets,
               round(r.support, 6), round(r.confidence, 6), round(r.lift, 6)]


def fit_rows(report: CategoryFitOut) -> Iterator[list]:
    """One row per category."""
    for c in report.categories:
        yield [c.category, c.buyers, c.repeat_buyers, c.median_days_between, c.messages, c.replies, c.events,
               round(c.interaction_per_buyer, 6), c.high_frequency, c.high_interaction, c.quadrant]
