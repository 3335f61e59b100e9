"""Built-in SQL models shipped with hub (staging per connector stream, canonical entities)."""
