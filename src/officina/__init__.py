"""officina: one self-hosted back office speaking the ZeyOS, Octaved Flow and Goana dialects."""

__version__ = "0.1.0"
