"""Experiment statistics and assignment, pure: checked against published worked examples."""

import math
from collections import Counter

import pytest

from yutang.journeys import core, graph, stats
from yutang.journeys.graph import Variant
from yutang.kit.errors import Invalid


def test_two_proportion_z_test_matches_openintro_mammogram_example():
    """OpenIntro Statistics, 4th ed. (Diez, Çetinkaya-Rundel, Barr), §6.2.3: breast cancer deaths were 500 of
    44,925 with mammograms and 505 of 44,910 in the control group; the pooled test gives Z ≈ -0.17 and a two-sided
    p-value ≈ 0.87 (the book rounds the proportions first, so Z is -0.164 unrounded)."""
    found = stats.compare(500, 44_925, 505, 44_910)
    assert found.z == pytest.approx(-0.17, abs=0.01)
    assert found.p == pytest.approx(0.865, abs=0.01)
    assert found.difference == pytest.approx(500 / 44_925 - 505 / 44_910)
    assert found.low < found.difference < found.high and found.low < 0 < found.high


def test_sample_ratio_mismatch_matches_kohavi_example():
    """Kohavi, Tang & Xu, Trustworthy Online Controlled Experiments (2020), ch. 3: an experiment designed 50/50
    had 821,588 users in control and 815,482 in treatment; the p-value of that ratio is 1.8E-6 — an SRM."""
    p = stats.srm_p([821_588, 815_482], [50, 50])
    assert p == pytest.approx(1.8e-6, rel=0.05)
    assert p < stats.SRM_ALPHA
    assert stats.srm_p([1_000, 1_010], [50, 50]) > stats.SRM_ALPHA
    assert stats.srm_p([0, 0], [1, 1]) == 1.0


def test_holm_matches_the_worked_example():
    """Holm (1979), as worked on Wikipedia's "Holm–Bonferroni method": p = 0.01, 0.04, 0.03, 0.005 at α = 0.05;
    0.005 < 0.05/4 and 0.01 < 0.05/3 are rejected, 0.03 > 0.05/2 stops: H1 and H4 rejected, H2 and H3 not."""
    found = stats.adjust([0.01, 0.04, 0.03, 0.005], alpha=0.05, method="holm")
    assert [rejected for rejected, _ in found] == [True, False, False, True]
    assert found[3][1] == pytest.approx(0.02)


def test_benjamini_hochberg_matches_the_1995_paper():
    """Benjamini & Hochberg (1995), JRSS B 57(1) §4: of 15 p-values from a thrombolysis study, the FDR procedure at
    q = 0.05 rejects four, the Bonferroni-type (Holm) procedure three."""
    ps = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240, 0.4262, 0.5719, 0.6528,
          0.7590, 1.000]
    assert sum(r for r, _ in stats.adjust(ps, alpha=0.05, method="fdr_bh")) == 4
    assert sum(r for r, _ in stats.adjust(ps, alpha=0.05, method="holm")) == 3


def test_sample_size_matches_cohen_table():
    """Cohen, Statistical Power Analysis for the Behavioral Sciences (2nd ed., 1988), Table 6.4.1: a difference
    of proportions with h = 0.20, two-sided α = 0.05, power 0.80 needs n = 392 per group."""
    baseline = math.sin(math.asin(math.sqrt(0.5)) - 0.1) ** 2  # rates 0.5 and this one are h = 0.20 apart
    assert stats.sample_size(baseline, 0.5 - baseline) in (392, 393)
    assert stats.sample_size(0.10, 0.02) > stats.sample_size(0.10, 0.05)


def test_no_comparison_without_data_and_the_normal_rule():
    assert stats.compare(0, 0, 3, 10) is None
    assert stats.compare(0, 10, 0, 10) is None
    assert stats.enough(5, 10) and not stats.enough(4, 100) and not stats.enough(96, 100)


def test_assignment_is_deterministic_follows_the_weights_and_moves_with_the_salt():
    variants = [Variant(key="control", weight=50), Variant(key="b", weight=30), Variant(key="c", weight=20)]
    first = [core.assign("exp-1", customer, variants).key for customer in range(20_000)]
    assert first == [core.assign("exp-1", customer, variants).key for customer in range(20_000)]
    shares = Counter(first)
    assert stats.srm_p([shares["control"], shares["b"], shares["c"]], [50, 30, 20]) > 0.001
    other = [core.assign("exp-2", customer, variants).key for customer in range(20_000)]
    assert 0.3 < sum(a != b for a, b in zip(first, other, strict=True)) / 20_000 < 0.8
    assert 0 <= core.bucket("s", 1) < 1


@pytest.mark.parametrize(("steps", "goal", "field"), [
    ({"x": {"kind": "experiment", "name": "n", "variants": [{"key": "a", "next": "nowhere"}, {"key": "b"}]}},
     {"event": "Order Paid"}, "definition.steps.x.variants.0.next"),
    ({"x": {"kind": "experiment", "name": "n", "variants": [{"key": "a"}, {"key": "b"}]}}, None,
     "definition.steps.x.metric"),
    ({"x": {"kind": "experiment", "name": "n", "variants": [{"key": "a"}, {"key": "a"}]}}, {"event": "E"},
     "definition.steps.x"),
    ({"x": {"kind": "experiment", "name": "n", "variants": [{"key": "a"}]}}, {"event": "E"},
     "definition.steps.x.experiment.variants"),
])
def test_a_bad_experiment_is_refused_naming_the_field(steps, goal, field):
    data = {"entry": {"kind": "api"}, "start": "x", "steps": steps, **({"goal": goal} if goal else {})}
    with pytest.raises(Invalid) as caught:
        graph.parse(data)
    assert caught.value.errors[0].field.startswith(field)
