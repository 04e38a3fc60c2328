"""Datasets of the imu domain."""
