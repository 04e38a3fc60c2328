"""Datasets of the ecg domain."""
