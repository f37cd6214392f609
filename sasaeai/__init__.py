"""sasaeai: a LINE bot and service for community life support (生活支援体制整備事業)."""
