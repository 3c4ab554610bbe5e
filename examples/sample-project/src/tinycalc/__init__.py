"""A tiny calculator library."""


def add(left: float, right: float) -> float:
    """Return the sum of two numbers."""
    return left + right


def mean(values: list[float]) -> float:
    """Return the arithmetic mean; an empty list raises ValueError."""
    if not values:
        raise ValueError("mean of an empty list")
    return sum(values) / len(values)
