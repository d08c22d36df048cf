"""The one month arithmetic (transship.periods) across year ends and backwards."""

from datetime import date

from transship.periods import add_months, from_month_index, month_index, months_between


def test_month_arithmetic_crosses_year_ends() -> None:
    assert add_months(date(2023, 11, 1), 3) == date(2024, 2, 1)
    assert add_months(date(2024, 1, 1), -1) == date(2023, 12, 1)
    assert add_months(date(2022, 2, 24), 0) == date(2022, 2, 1)  # first of the month
    assert months_between(date(2021, 12, 1), date(2023, 1, 1)) == 13
    assert months_between(date(2023, 1, 1), date(2021, 12, 1)) == -13
    assert from_month_index(month_index(date(2019, 7, 1)) + 6) == date(2020, 1, 1)
