"""Telephony: the provider port and its simulated carrier (demo, forecaster, tests)."""

from ringwise.telephony.callee import CalleeModel, Disposition, ModelError
from ringwise.telephony.port import (
    Accepted,
    CallEvent,
    DialRequest,
    PlaceResult,
    ProviderCallRecord,
    Rejected,
    SupportsHangup,
    TelephonyProvider,
    Transcript,
    Turn,
)
from ringwise.telephony.simulated import (
    CallPlan,
    CarrierModel,
    Duration,
    IdempotencyConflict,
    SimulatedCarrier,
)

__all__ = [
    "Accepted", "CallEvent", "CallPlan", "CalleeModel", "CarrierModel", "DialRequest",
    "Disposition", "Duration", "IdempotencyConflict", "ModelError", "PlaceResult",
    "ProviderCallRecord", "Rejected", "SimulatedCarrier", "SupportsHangup",
    "TelephonyProvider", "Transcript", "Turn",
]
