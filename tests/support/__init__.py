"""Helpers shared by the test suites (servers for integration tests)."""
