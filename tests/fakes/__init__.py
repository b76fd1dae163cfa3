"""Small real servers that speak third-party protocols, for tests and benchmarks."""
