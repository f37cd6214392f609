"""Distances on the ground, and how long they take on foot."""
from __future__ import annotations

from math import asin, cos, radians, sin, sqrt

EARTH_RADIUS_M = 6_371_000
WALKING_M_PER_MIN = 80  # the 不動産 convention: 80 m a minute


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = radians(lat1), radians(lat2)
    dp, dl = p2 - p1, radians(lon2 - lon1)
    a = sin(dp / 2) ** 2 + cos(p1) * cos(p2) * sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * asin(min(1.0, sqrt(a)))


def walking_minutes(metres: float) -> int:
    return max(1, round(metres / WALKING_M_PER_MIN))


def distance_text(metres: float) -> str:
    """歩いて8分 when it is a walk, 約3.2km when it is not."""
    minutes = walking_minutes(metres)
    if minutes <= 30:
        return f"歩いて{minutes}分"
    return f"約{metres / 1000:.1f}km"


def valid_lat_lon(lat: float | None, lon: float | None) -> bool:
    if lat is None or lon is None:
        return False
    return -90 <= lat <= 90 and -180 <= lon <= 180 and not (lat == 0 and lon == 0)
