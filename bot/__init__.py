"""LINE-facing code: events in, messages out."""
