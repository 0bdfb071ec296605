import pytest

from cms.workdays import services


@pytest.fixture(autouse=True)
def fresh_workday_cache():
    """Each test starts and ends with no cached overrides in this process."""
    services.clear_local_cache()
    yield
    services.clear_local_cache()
