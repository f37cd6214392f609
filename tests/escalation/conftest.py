from tests.bot.conftest import town  # noqa: F401  (the same small 郡山市)
