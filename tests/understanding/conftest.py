"""The bot's small 郡山市 (tests/bot/conftest.py) for the safety stories."""
from tests.bot.conftest import town  # noqa: F401  (a fixture)
