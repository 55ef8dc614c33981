"""Chaos specs: real servers killed at random points; slow, so marked ``integration``."""


def pytest_configure(config):
    config.addinivalue_line("markers", "integration: runs real servers through faults (slow)")
