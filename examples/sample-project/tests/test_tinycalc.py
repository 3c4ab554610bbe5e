import pytest

from tinycalc import add, mean


def test_add() -> None:
    assert add(2, 3) == 5


def test_mean() -> None:
    assert mean([1, 2, 3]) == 2
    with pytest.raises(ValueError):
        mean([])
