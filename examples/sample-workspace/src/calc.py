"""A tiny calculator: the code the sample workstreams verify."""


def add(left: float, right: float) -> float:
    """Return the sum of two numbers."""
    return left + right


def divide(left: float, right: float) -> float:
    """Return left / right; dividing by zero raises ZeroDivisionError."""
    return left / right
