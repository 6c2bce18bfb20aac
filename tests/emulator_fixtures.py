"""Emulator fixtures (owned by the emulator issue): a session emulator, reset per test."""
