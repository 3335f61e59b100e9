"""Reverse ETL: the sync engine and one pusher per target system."""
