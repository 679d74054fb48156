"""SDK and CLI for Digitaleo's file deposit."""

from digitaleo_client.deposit import Action, ImportMode, Media, Stage
from digitaleo_client.errors import DigitaleoError

__all__ = ["Action", "DigitaleoError", "ImportMode", "Media", "Stage"]
__version__ = "0.1.0"
