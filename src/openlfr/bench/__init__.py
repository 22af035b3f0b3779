"""Speed benchmarks that print figures (no timed assertions anywhere in the test suite)."""
