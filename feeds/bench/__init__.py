"""Benchmarks: scripts that print figures. Never run as tests (the machine is shared and noisy)."""
