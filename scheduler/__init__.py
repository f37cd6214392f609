"""APScheduler jobs: thin functions called with a clock and a session."""
