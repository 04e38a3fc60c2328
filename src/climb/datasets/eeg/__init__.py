"""Datasets of the eeg domain."""
