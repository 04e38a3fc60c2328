"""climb: the CLIMB clinical benchmark as one consistent, fast, verifiable data foundation."""

__version__ = "0.1.0"

__all__ = ["__version__"]
