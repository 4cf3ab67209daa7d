from hypothesis import given, settings, HealthCheck
import tests.test_scrub as t
from bot.privacy.scrub import scrub
@settings(max_examples=60000, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=t._TEXT, names=t._NAMES)
def test_many(text, names):
    once = scrub(text, names)
    assert scrub(once, names) == once
    assert not t.TEN_DIGITS.search(once)
