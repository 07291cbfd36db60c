"""Job functions for the RQ test (imported by the worker by name)."""


def square(x):
    return x * x


def broken():
    raise RuntimeError("broken job")
