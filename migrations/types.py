"""The column types revisions refer to: a stable import whatever module defines them."""
from domain.base import UTCDateTime

__all__ = ["UTCDateTime"]
