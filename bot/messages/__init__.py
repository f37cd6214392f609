"""What the service says on LINE: one text catalogue per audience, and message builders.

Plain dicts in LINE's JSON shape (no SDK import), so both bot/ (replies) and scheduler/
(reminders, deadline notices) can use them. Builders check LINE's limits as they build.
"""
