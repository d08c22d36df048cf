"""transship: sanctions-relevant dual-use trade through third countries, found and screened."""

__version__ = "0.1.0"
