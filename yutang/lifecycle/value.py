"""Customer value models, fitted by maximum likelihood with scipy: BG/NBD for how many purchases a customer will
make (Fader, Hardie & Lee 2005, "Counting your customers the easy way") and Gamma-Gamma for how much each is worth
(Fader & Hardie 2013, "The Gamma-Gamma model of monetary value"). Pure numpy: no database.

Inputs per customer, as the papers define them: x repeat purchases (purchase days after the first), t_x the time
from the first to the last purchase, T the time from the first purchase to now (any one time unit), and the mean
value of the repeat purchases. Customers with the same inputs are fitted once, weighted by their count, so a million
customers cost what their few hundred thousand distinct histories cost.
"""

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import digamma, gammaln, hyp2f1


class FitError(ValueError):
    """The data cannot support the model (too few customers, or the optimiser did not converge)."""


@dataclass(frozen=True)
class BgNbd:
    """Fitted BG/NBD parameters: purchase rate ~ Gamma(r, alpha), drop-out probability ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float

    def expected_purchases(self, t: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """E[purchases in (T, T+t] | x, t_x, T], the paper's equation (10)."""
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
        z = t / (alpha + T + t)
        head = (a + b + x - 1) / (a - 1)
        body = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z)
        alive_odds = np.where(x > 0, a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x), 0.0)
        return head * body / (1 + alive_odds)


@dataclass(frozen=True)
class GammaGamma:
    """Fitted Gamma-Gamma parameters: a purchase's value ~ Gamma(p, nu), nu ~ Gamma(q, v) per customer."""

    p: float
    q: float
    v: float

    def expected_value(self, x: np.ndarray, mean_value: np.ndarray) -> np.ndarray:
        """E[value of a purchase | x repeat purchases of this mean value]; the population mean when x = 0."""
        x, m = np.asarray(x, dtype=float), np.asarray(mean_value, dtype=float)
        return self.p * (self.v + x * m) / (self.p * x + self.q - 1)


def _distinct(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """The distinct rows of the columns and how many times each occurs."""
    stacked = np.column_stack([np.asarray(c, dtype=float) for c in columns])
    rows, counts = np.unique(stacked, axis=0, return_counts=True)
    return [rows[:, i] for i in range(rows.shape[1])], counts.astype(float)


class _Levels:
    """Special functions of (c + x) for a column x with few distinct values (purchase counts): computed per
    distinct value and spread out, which costs a fraction of computing them per customer."""

    def __init__(self, x: np.ndarray):
        self.values, self.index = np.unique(x, return_inverse=True)

    def gammaln(self, c: float) -> np.ndarray:
        return gammaln(c + self.values)[self.index]

    def digamma(self, c: float) -> np.ndarray:
        return digamma(c + self.values)[self.index]


def bgnbd_log_likelihood(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray,
                         *, gradient: bool = False, levels: _Levels | None = None):
    """Each customer's log-likelihood under BG/NBD (r, alpha, a, b), the paper's equation (6); with gradient=True
    also its derivatives by r, alpha, a and b (one row each)."""
    r, alpha, a, b = params
    levels = levels or _Levels(x)
    a1 = levels.gammaln(r) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + levels.gammaln(b) - gammaln(b) - levels.gammaln(a + b)
    a3 = -(r + x) * np.log(alpha + T)
    repeat = x > 0
    a4 = np.full_like(x, -np.inf)
    a4[repeat] = (np.log(a) - np.log(b + x[repeat] - 1) - (r + x[repeat]) * np.log(alpha + t_x[repeat]))
    both = np.logaddexp(a3, a4)
    if not gradient:
        return a1 + a2 + both
    w3, w4 = np.exp(a3 - both), np.exp(a4 - both)  # the shares of the two terms inside the log
    bx1 = np.where(repeat, b + x - 1, 1.0)
    log_tx = np.log(alpha + t_x)
    psi_abx = levels.digamma(a + b)
    d_r = levels.digamma(r) - digamma(r) + np.log(alpha) - w3 * np.log(alpha + T) - w4 * log_tx
    d_alpha = r / alpha - w3 * (r + x) / (alpha + T) - w4 * (r + x) / (alpha + t_x)
    d_a = digamma(a + b) - psi_abx + w4 / a
    d_b = digamma(a + b) + levels.digamma(b) - digamma(b) - psi_abx - w4 / bx1
    return a1 + a2 + both, np.vstack([d_r, d_alpha, d_a, d_b])


def gamma_gamma_log_likelihood(params: np.ndarray, x: np.ndarray, mean_value: np.ndarray, *, gradient: bool = False):
    """Each repeat customer's log-likelihood of their mean purchase value under Gamma-Gamma (p, q, v); with
    gradient=True also its derivatives by p, q and v."""
    p, q, v = params
    px = p * x
    spent = np.log(x * mean_value + v)
    value = (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v) + (px - 1) * np.log(mean_value)
             + px * np.log(x) - (px + q) * spent)
    if not gradient:
        return value
    d_p = x * (digamma(px + q) - digamma(px) + np.log(mean_value) + np.log(x) - spent)
    d_q = digamma(px + q) - digamma(q) + np.log(v) - spent
    d_v = q / v - (px + q) / (x * mean_value + v)
    return value, np.vstack([d_p, d_q, d_v])


def _fit(log_likelihood, columns: list[np.ndarray], weights: np.ndarray, size: int, **fixed) -> np.ndarray:
    total = weights.sum()

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(log_params)
        with np.errstate(all="ignore"):
            value, gradient = log_likelihood(params, *columns, gradient=True, **fixed)
            loss = -(weights * value).sum() / total
            # Chain rule for the log parameters: d/d(log p) = p · d/dp.
            grad = -(gradient * weights).sum(axis=1) / total * params
        if not np.isfinite(loss) or not np.isfinite(grad).all():
            return 1e300, np.zeros(size)
        return loss, grad

    # L-BFGS-B with the analytic gradient on log parameters (positive by construction), bounded so a parameter
    # the data cannot pin down (e.g. no drop-out at all) stops at the bound instead of wandering off.
    result = minimize(objective, np.zeros(size), jac=True, method="L-BFGS-B", bounds=[(-12.0, 12.0)] * size,
                      options={"ftol": 1e-11, "gtol": 1e-8, "maxiter": 1000})
    if not np.isfinite(result.fun) or result.fun >= 1e300:
        raise FitError(f"the fit did not converge: {result.message}")
    return np.exp(result.x)


def fit_bgnbd(x: np.ndarray, t_x: np.ndarray, T: np.ndarray, *, min_customers: int = 20) -> BgNbd:
    """Maximum-likelihood BG/NBD parameters for customers' (x, t_x, T)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    if len(x) < min_customers or not (x > 0).any():
        raise FitError(f"BG/NBD needs at least {min_customers} customers, some with repeat purchases")
    if (t_x > T).any() or (t_x < 0).any() or (x < 0).any() or ((x == 0) & (t_x != 0)).any():
        raise FitError("BG/NBD inputs must satisfy 0 ≤ t_x ≤ T, x ≥ 0, and t_x = 0 when x = 0")
    # Fitted in units of the mean customer age, so the start (all parameters 1) is near any data's optimum; alpha
    # is a time scale and converts back.
    unit = float(T.mean()) or 1.0
    columns, weights = _distinct(x, t_x / unit, T / unit)
    r, alpha, a, b = _fit(bgnbd_log_likelihood, columns, weights, 4, levels=_Levels(columns[0]))
    return BgNbd(r=float(r), alpha=float(alpha * unit), a=float(a), b=float(b))


def fit_gamma_gamma(x: np.ndarray, mean_value: np.ndarray, *, min_customers: int = 10) -> GammaGamma:
    """Maximum-likelihood Gamma-Gamma parameters for repeat customers' (x > 0, mean repeat value > 0)."""
    x, m = np.asarray(x, dtype=float), np.asarray(mean_value, dtype=float)
    keep = (x > 0) & (m > 0)
    if keep.sum() < min_customers:
        raise FitError(f"Gamma-Gamma needs at least {min_customers} repeat customers with a positive value")
    # Fitted in units of the mean purchase value (fen or dollars alike); v is a value scale and converts back.
    unit = float(m[keep].mean())
    columns, weights = _distinct(x[keep], m[keep] / unit)
    p, q, v = _fit(gamma_gamma_log_likelihood, columns, weights, 3)
    fitted = GammaGamma(p=float(p), q=float(q), v=float(v * unit))
    if fitted.q <= 1:
        raise FitError("Gamma-Gamma fit has q ≤ 1: the mean value per purchase is unbounded for this data")
    return fitted
