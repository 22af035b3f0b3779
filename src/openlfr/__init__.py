"""OpenLFR: open-source live facial recognition with governance, privacy and audit built in."""

__version__ = "0.1.0"
