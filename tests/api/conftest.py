"""This suite runs against real services: PostgreSQL, Redis and the API (see ``tests/services.py``)."""

from tests.services import use_services


def pytest_configure(config):
    use_services(config)
