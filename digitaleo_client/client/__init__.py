"""The SDK's entry point: DigitaleoClient and the records it returns."""

from digitaleo_client.client.arguments import check_push_arguments
from digitaleo_client.client.core import DEFAULT_WAIT_TIMEOUT, DigitaleoClient
from digitaleo_client.client.outcome import (
    ModeChange,
    Outcome,
    PushResult,
    StageChange,
    Upload,
)
from digitaleo_client.client.waiting import Clock, PollPolicy, SystemClock

__all__ = [
    "DEFAULT_WAIT_TIMEOUT",
    "Clock",
    "DigitaleoClient",
    "ModeChange",
    "Outcome",
    "PollPolicy",
    "PushResult",
    "StageChange",
    "SystemClock",
    "Upload",
    "check_push_arguments",
]
