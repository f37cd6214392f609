"""The coordinators' web console."""
