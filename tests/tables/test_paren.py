"""Physics notation ``0.4989(15)`` (``nnft.stats.format_paren``): the rounding rule, exponents, edge cases."""

import math

import pytest

from nnft.stats import format_paren
from nnft.tables import estimate


@pytest.mark.parametrize("mean, err, want", [
    (0.4989, 0.0015, "0.4989(15)"),          # leading digit 1: two digits of the error
    (12.3, 1.5, "12.3(15)"),
    (1234, 56, "1.23(6)e3"),                 # leading 5: one digit, last digit at 10 -> a power of ten
    (-1234, 56, "-1.23(6)e3"),
    (123, 15, "123(15)"),                    # last digit at the units: no exponent
    (0.12345, 0.0036, "0.123(4)"),           # leading 3: one digit
    (0.12345, 0.0025, "0.1235(25)"),         # leading 2: two digits (value rounded half up)
    (1.0, 0.0996, "1.00(10)"),               # 0.0996 rounds to 0.10: two digits with the new leading 1
    (5.0, 0.95, "5.0(10)"),
    (99.96, 0.25, "99.96(25)"),
    (-0.4989, 0.0015, "-0.4989(15)"),
    (0.0, 0.01, "0.000(10)"),
    (1e-3, 2.5e-5, "0.001000(25)"),          # last digit at 1e-6: still fixed point
    (1.2345e-7, 1.5e-9, "1.235(15)e-7"),     # further right than 1e-6: a power of ten
    (6.02e23, 3e20, "6.020(3)e23"),
    (3.0, 50.0, "0(5)e1"),                   # error larger than the value
    (0.5, 0.0, "0.5(0)"),                    # no error to round to: 6 significant digits
    (0.123456789, 0.0, "0.123457(0)"),
    (0.5, math.nan, "0.5(nan)"),
    (0.5, math.inf, "0.5(inf)"),
    (math.nan, 0.1, "nan(0.1)"),
    (math.inf, math.nan, "inf(nan)"),
])
def test_paren_cases(mean, err, want):
    assert format_paren(mean, err) == want


def test_paren_is_not_the_pm_form_and_negative_errors_refused():
    assert format_paren(0.4989, 0.0015) != "0.4989(2)"        # a wrong rule (always 1 digit) would give this
    assert format_paren(12.3, 1.5) != "12(2)"
    with pytest.raises(ValueError):
        format_paren(1.0, -0.1)


def test_paren_round_trips_within_half_a_last_digit():
    """The printed value and error are the inputs rounded at the error's last digit."""
    for mean, err in [(0.4989, 0.0015), (12.3, 1.5), (1234, 56), (1.2345e-7, 1.5e-9), (-7.777, 0.333)]:
        text = format_paren(mean, err)
        body, _, exp = text.partition("e")
        value, digits = body[:-1].split("(")
        scale = 10 ** int(exp) if exp else 1
        decimals = len(value.split(".")[1]) if "." in value else 0
        unit = 10.0 ** -decimals * scale
        assert abs(float(value) * scale - mean) <= unit / 2 * (1 + 1e-9)
        assert abs(int(digits) * unit - err) <= unit / 2 * (1 + 1e-9)


def test_table_notation_setting(monkeypatch):
    monkeypatch.delenv("NNFT_NOTATION", raising=False)
    assert estimate(0.4989, 0.0015) == "0.4989 ± 0.0015"
    monkeypatch.setenv("NNFT_NOTATION", "paren")
    assert estimate(0.4989, 0.0015) == "0.4989(15)"
    monkeypatch.setenv("NNFT_NOTATION", "latex")
    with pytest.raises(ValueError, match="NNFT_NOTATION"):
        estimate(0.4989, 0.0015)
