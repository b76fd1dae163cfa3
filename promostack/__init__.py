"""PromoStack domain library: pure logic and small I/O clients, no Prefect, no web."""

__version__ = "0.1.0"
