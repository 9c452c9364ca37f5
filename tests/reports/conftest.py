"""Shared by the reports API tests: the app client and the people of the hand-computed month."""

from tests.accounts.conftest import fast_hashing  # noqa: F401 - fixture
from tests.reports.test_web import app_client, people  # noqa: F401 - fixtures
