"""Transports: one contract (base.Transport), one implementation per protocol."""

from digitaleo_client.transport.base import ProgressCallback, RemoteEntry, Transport

__all__ = ["ProgressCallback", "RemoteEntry", "Transport"]
