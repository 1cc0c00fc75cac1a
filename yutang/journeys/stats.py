"""Experiment statistics through maintained libraries (scipy, statsmodels), not hand-rolled formulas: the
sample-ratio-mismatch check, the two-proportion z test with its interval, the correction across metrics × variants
and the sample size per variant."""

import math
import warnings
from dataclasses import dataclass

from scipy.stats import chisquare
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_effectsize, proportions_ztest

SRM_ALPHA = 0.001  # a 0.05 cut would make about half the alarms false (GrowthBook, Kohavi et al.)


def srm_p(observed: list[int], weights: list[int]) -> float:
    """The χ² goodness-of-fit p-value of the exposures per variant against the planned weights (1.0 with none)."""
    total = sum(observed)
    if total == 0:
        return 1.0
    expected = [total * weight / sum(weights) for weight in weights]
    return float(chisquare(observed, expected).pvalue)


@dataclass(frozen=True)
class Comparison:
    """A variant against the control on one proportion: the difference, its interval, z and the p-value."""

    difference: float
    low: float
    high: float
    z: float
    p: float


def compare(hits: int, n: int, control_hits: int, control_n: int, *, alpha: float = 0.05) -> Comparison | None:
    """The two-sided two-proportion z test (pooled) of a variant against the control, with a Wald interval of
    the difference; None while either side has no exposures or every outcome is the same."""
    if n == 0 or control_n == 0 or (hits + control_hits) in (0, n + control_n):
        return None
    z, p = proportions_ztest([hits, control_hits], [n, control_n], alternative="two-sided")
    low, high = confint_proportions_2indep(hits, n, control_hits, control_n, compare="diff", method="wald",
                                           alpha=alpha)
    return Comparison(difference=hits / n - control_hits / control_n, low=float(low), high=float(high), z=float(z),
                      p=float(p))


def adjust(pvalues: list[float], *, alpha: float, method: str) -> list[tuple[bool, float]]:
    """Holm (`holm`) or Benjamini–Hochberg (`fdr_bh`) across a family of p-values: (rejected, adjusted p)."""
    if not pvalues:
        return []
    rejected, adjusted, _, _ = multipletests(pvalues, alpha=alpha, method=method)
    return [(bool(r), float(a)) for r, a in zip(rejected, adjusted, strict=True)]


def sample_size(baseline: float, lift: float, *, alpha: float = 0.05, power: float = 0.8) -> int | None:
    """Exposures per variant to detect a change of `lift` (absolute) from a `baseline` rate, two-sided, with
    equal groups (Cohen's h through statsmodels' normal power); None when the solver finds no size."""
    effect = abs(float(proportion_effectsize(baseline + lift, baseline)))
    if effect == 0:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the solver warns, then returns nan, when it does not converge
        n = float(NormalIndPower().solve_power(effect_size=effect, alpha=alpha, power=power, ratio=1.0,
                                               alternative="two-sided"))
    return math.ceil(n) if math.isfinite(n) else None


def enough(hits: int, n: int) -> bool:
    """Whether the normal approximation holds for a rate: at least 5 successes and 5 failures."""
    return hits >= 5 and n - hits >= 5
