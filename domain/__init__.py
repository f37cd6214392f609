"""The model and the rules. Imports SQLAlchemy and the standard library only."""
