"""The simulated carrier: a :class:`~ringwise.telephony.port.TelephonyProvider` for the demo,
the forecaster and tests, kept as carefully as a real adapter.

It emits what a real carrier emits, in Twilio's vocabulary and order, with instants computed
from the request's ``placed_at`` (no wall clock):

* answered by a person: ``initiated -> ringing -> in-progress -> completed``;
* answered by a machine: the same, ``in-progress`` carrying the answering-machine-detection
  verdict (``machine_end_*`` when a voicemail message is to be left, ``machine_start`` when
  the assistant just hangs up, ``unknown`` when detection was inconclusive or the greeting
  outlasted ``machine_detection_timeout_s``; no ``answered_by`` with detection off, as Twilio);
* ``initiated -> ringing -> no-answer`` after the ring timeout (also when the callee or their
  voicemail would have picked up only after it), ``initiated -> ringing -> busy``;
* ``initiated -> failed`` (carrier failure, ``provider-error``), and ``failed`` at once for a
  number that is not in service (``invalid-number``).

Deterministic: each call's fate comes from a keyed hash of ``(seed, call_id)``, never from a
shared random stream, so the same seed and requests give the same events whatever the order
in which calls are placed or events pulled. (Which placements the calls-per-second limit
rejects does depend on arrival order: first come, first served, as at a real carrier.)

The carrier's "now" is the latest ``until`` it was asked for events up to: what it has
reported. :meth:`~SimulatedCarrier.lookup` answers as of then, and a hang-up never takes
effect before it (it cannot undo reported events).
"""

from __future__ import annotations

import json
import math
import re
from bisect import bisect_left, bisect_right, insort
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from hashlib import blake2b
from heapq import heapify, heappop, heappush
from struct import Struct
from types import MappingProxyType
from typing import Any, Final, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ringwise.core.call_states import (
    TERMINAL_PROVIDER_STATUSES,
    AnsweredBy,
    EndedReason,
    ProviderEvent,
    ProviderStatus,
)
from ringwise.core.templates import parse as parse_template
from ringwise.telephony import callee as simulated_callee
from ringwise.telephony.callee import CalleeModel, Disposition, ModelError
from ringwise.telephony.port import (
    Accepted,
    CallEvent,
    DialRequest,
    PlaceResult,
    ProviderCallRecord,
    Rejected,
    Transcript,
    Turn,
)

__all__ = ["CallPlan", "CarrierModel", "Duration", "Fate", "IdempotencyConflict",
           "ModelError", "SimulatedCarrier"]

DurationKind = Literal["fixed", "uniform", "triangular", "lognormal"]
DURATION_KINDS: Final[tuple[DurationKind, ...]] = get_args(DurationKind)
# What happened on the line: who answered, or why nobody did.
Fate = Literal["human", "machine", "busy", "no-answer", "failed", "invalid-number"]


def _number(value: Any, name: str, *, low: float = 0.0, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ModelError(name, f"must be a number, got {value!r}")
    if not low <= value <= high:
        bounds = f"between {low:g} and {high:g}" if high < math.inf else f">= {low:g}"
        raise ModelError(name, f"must be {bounds}, got {value!r}")
    return float(value)


@dataclass(frozen=True, slots=True)
class Duration:
    """A distribution of seconds: ``fixed`` (``min_s``), ``uniform`` and ``triangular`` over
    ``[min_s, max_s]`` (``mode_s``), or ``lognormal`` (``median_s``, ``sigma``) clipped to
    ``[min_s, max_s]``. Sampled by inverse transform from uniforms the caller supplies, so a
    draw is a pure function of the call's hash."""

    kind: DurationKind
    min_s: float
    max_s: float
    mode_s: float | None = None
    median_s: float | None = None
    sigma: float | None = None

    @classmethod
    def fixed(cls, seconds: float) -> Duration:
        return cls("fixed", seconds, seconds)

    @classmethod
    def uniform(cls, min_s: float, max_s: float) -> Duration:
        return cls("uniform", min_s, max_s)

    @classmethod
    def triangular(cls, min_s: float, mode_s: float, max_s: float) -> Duration:
        return cls("triangular", min_s, max_s, mode_s=mode_s)

    @classmethod
    def lognormal(cls, median_s: float, sigma: float, min_s: float = 0.0,
                  max_s: float = 86_400.0) -> Duration:
        return cls("lognormal", min_s, max_s, median_s=median_s, sigma=sigma)

    def __post_init__(self) -> None:
        # Errors name the field alone; from_dict puts the field's path in front.
        if self.kind not in DURATION_KINDS:
            raise ModelError("kind", f"must be one of {', '.join(DURATION_KINDS)}, "
                                     f"got {self.kind!r}")
        low = _number(self.min_s, "min_s")
        _number(self.max_s, "max_s", low=low)
        wanted = {"triangular": {"mode_s"}, "lognormal": {"median_s", "sigma"}}.get(
            self.kind, set())
        for name in ("mode_s", "median_s", "sigma"):
            given = getattr(self, name) is not None
            if given != (name in wanted):
                verb = "not allowed" if given else "required"
                raise ModelError(name, f"{verb} for a {self.kind} duration")
        if self.kind == "fixed" and self.max_s != self.min_s:
            raise ModelError("max_s", "must equal min_s for a fixed duration")
        if self.mode_s is not None:
            _number(self.mode_s, "mode_s", low=self.min_s, high=self.max_s)
        if self.median_s is not None:
            _number(self.median_s, "median_s", low=max(self.min_s, 1e-9), high=self.max_s)
        if self.sigma is not None:
            _number(self.sigma, "sigma", high=5.0)

    def at(self, u: float, v: float) -> float:
        """The draw for uniforms ``u``, ``v`` in (0, 1) (``v`` only for lognormal)."""
        low, high = self.min_s, self.max_s
        if self.kind == "triangular":
            mode = self.mode_s if self.mode_s is not None else low
            span = high - low
            if span <= 0:
                return low
            cut = (mode - low) / span
            if u < cut:
                return low + math.sqrt(u * span * (mode - low))
            return high - math.sqrt((1.0 - u) * span * (high - mode))
        if self.kind == "lognormal":
            median = self.median_s or 1.0
            # Box-Muller: a standard normal from two uniforms.
            z = math.sqrt(-2.0 * math.log(u)) * math.cos(2.0 * math.pi * v)
            return min(max(median * math.exp((self.sigma or 0.0) * z), low), high)
        if self.kind == "uniform":
            return low + u * (high - low)
        return low

    @classmethod
    def from_dict(cls, data: Any, path: str) -> Duration:
        if not isinstance(data, Mapping):
            raise ModelError(path, "must be an object like {\"kind\": \"triangular\", "
                                   "\"min_s\": 2, \"mode_s\": 7, \"max_s\": 24}")
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ModelError(f"{path}.{sorted(unknown)[0]}", "unknown field")
        kind = data.get("kind")
        if kind not in DURATION_KINDS:
            raise ModelError(f"{path}.kind", f"must be one of {', '.join(DURATION_KINDS)}, "
                                             f"got {kind!r}")
        if kind == "fixed" and "max_s" not in data and "min_s" in data:
            data = {**data, "max_s": data["min_s"]}
        if kind == "lognormal":
            data = {"min_s": 0.0, "max_s": 86_400.0, **data}
        for required in ("min_s", "max_s"):
            if required not in data:
                raise ModelError(f"{path}.{required}", f"required for a {kind} duration")
        try:
            return cls(**data)
        except ModelError as exc:
            raise ModelError(f"{path}.{exc.field}", exc.detail) from None

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) is not None}


# Answer-rate multiplier by the callee's local hour: few people pick up early or late, more
# at lunch and after work. A plausible shape, not a measurement; scenario files override it.
DEFAULT_HOUR_MULTIPLIER: Final[tuple[float, ...]] = (
    0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.5, 0.7,  # 00-07
    0.85, 0.95, 1.0, 1.0, 1.1, 1.0, 0.95, 0.95,  # 08-15
    1.0, 1.1, 1.2, 1.15, 1.0, 0.8, 0.6, 0.5,  # 16-23
)
# Default durations (seconds). Immutable, so one instance serves every model.
_POST_DIAL_DELAY: Final = Duration.triangular(0.5, 1.5, 5.0)
_RING_TIME: Final = Duration.triangular(2.0, 7.0, 24.0)
_MACHINE_RING_TIME: Final = Duration.triangular(12.0, 20.0, 28.0)  # 3-5 rings, then voicemail
_BUSY_AFTER: Final = Duration.triangular(0.5, 2.0, 8.0)
_TALK_TIME: Final = Duration.lognormal(45.0, 0.6, min_s=10.0, max_s=1_200.0)
_VOICEMAIL_GREETING: Final = Duration.triangular(4.0, 9.0, 25.0)
_VOICEMAIL_MESSAGE: Final = Duration.triangular(12.0, 20.0, 35.0)
_MACHINE_END: Final[tuple[AnsweredBy, ...]] = (
    "machine_end_beep", "machine_end_silence", "machine_end_other")
_RATES: Final = ("answer_rate", "busy_rate", "voicemail_rate", "failure_rate", "invalid_rate")
_DURATIONS: Final = ("post_dial_delay", "ring_time", "machine_ring_time", "busy_after",
                     "talk_time", "voicemail_greeting", "voicemail_message")


@dataclass(frozen=True, slots=True)
class CarrierModel:
    """How the simulated world answers. Rates are shares of placed calls (summing to <= 1;
    the rest ring out as no-answer); ``answer_rate`` is scaled by
    ``answer_hour_multiplier[callee local hour]`` (the extra or missing share goes to
    no-answer). Durations in seconds: ``post_dial_delay`` until ringing, ``ring_time`` until a
    person answers, ``machine_ring_time`` until voicemail picks up (either beyond
    ``ring_timeout_s`` means no-answer), ``busy_after`` until a busy signal, ``talk_time`` of
    a human conversation (times the callee's disposition factor), ``voicemail_greeting``
    until the beep, ``voicemail_message`` for the message the assistant leaves.
    ``machine_answered_by``: weights of the detection verdicts for a machine that beeps;
    ``amd_unknown_rate``: share of detections that come back ``unknown``. ``cps_limit``:
    placements accepted within any rolling second (None: no limit).

    Not hashable (its mappings are read-only views). ``from_dict`` / ``from_json`` read a
    scenario file; errors name the field."""

    answer_rate: float = 0.25
    busy_rate: float = 0.04
    voicemail_rate: float = 0.20
    failure_rate: float = 0.01
    invalid_rate: float = 0.02
    answer_hour_multiplier: tuple[float, ...] = DEFAULT_HOUR_MULTIPLIER
    post_dial_delay: Duration = _POST_DIAL_DELAY
    ring_time: Duration = _RING_TIME
    machine_ring_time: Duration = _MACHINE_RING_TIME
    busy_after: Duration = _BUSY_AFTER
    ring_timeout_s: float = 30.0
    talk_time: Duration = _TALK_TIME
    voicemail_greeting: Duration = _VOICEMAIL_GREETING
    voicemail_message: Duration = _VOICEMAIL_MESSAGE
    machine_answered_by: Mapping[AnsweredBy, float] = field(
        default_factory=lambda: MappingProxyType({
            "machine_end_beep": 0.85, "machine_end_silence": 0.10, "machine_end_other": 0.05}))
    amd_unknown_rate: float = 0.05
    cps_limit: int | None = 10
    callee: CalleeModel = field(default_factory=CalleeModel)

    def __post_init__(self) -> None:
        for name in (*_RATES, "amd_unknown_rate"):
            _number(getattr(self, name), name, high=1.0)
        total = sum(getattr(self, name) for name in _RATES)
        if total > 1.0 + 1e-9:
            raise ModelError("answer_rate", f"the rates ({', '.join(_RATES)}) sum to "
                                            f"{total:g}, more than 1")
        hours = self.answer_hour_multiplier
        if not isinstance(hours, tuple | list) or len(hours) != 24:
            raise ModelError("answer_hour_multiplier", "needs 24 values, one per local hour")
        for hour, value in enumerate(hours):
            _number(value, f"answer_hour_multiplier[{hour}]", high=100.0)
        object.__setattr__(self, "answer_hour_multiplier", tuple(float(v) for v in hours))
        for name in _DURATIONS:
            if not isinstance(getattr(self, name), Duration):
                raise ModelError(name, "must be a Duration")
        _number(self.ring_timeout_s, "ring_timeout_s", low=1.0, high=600.0)
        weights = self.machine_answered_by
        if not isinstance(weights, Mapping) or not weights:
            raise ModelError("machine_answered_by", "must map machine_end_* verdicts to weights")
        for verdict, weight in weights.items():
            if verdict not in _MACHINE_END:
                raise ModelError(f"machine_answered_by.{verdict}",
                                 f"must be one of {', '.join(_MACHINE_END)}")
            _number(weight, f"machine_answered_by.{verdict}")
        if sum(weights.values()) <= 0:
            raise ModelError("machine_answered_by", "needs a weight > 0")
        object.__setattr__(self, "machine_answered_by", MappingProxyType(dict(weights)))
        limit = self.cps_limit
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)
                                  or limit < 1):
            raise ModelError("cps_limit", f"must be a whole number >= 1 or null, got {limit!r}")
        if not isinstance(self.callee, CalleeModel):
            raise ModelError("callee", "must be a CalleeModel")

    def answer_rate_at(self, local_hour: int) -> float:
        """The share of calls a person answers at this callee-local hour."""
        others = self.busy_rate + self.voicemail_rate + self.failure_rate + self.invalid_rate
        return min(self.answer_rate * self.answer_hour_multiplier[local_hour], 1.0 - others)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CarrierModel:
        """A model from a scenario file's dict; missing fields keep their defaults."""
        if not isinstance(data, Mapping):
            raise ModelError("carrier", "must be an object")
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ModelError(sorted(unknown)[0], "unknown field")
        kwargs: dict[str, Any] = {}
        for name, value in data.items():
            if name in _DURATIONS:
                kwargs[name] = Duration.from_dict(value, name)
            elif name == "callee":
                kwargs[name] = CalleeModel.from_dict(value, "callee")
            elif name == "answer_hour_multiplier":
                if not isinstance(value, list | tuple):
                    raise ModelError(name, "needs 24 values, one per local hour")
                kwargs[name] = tuple(value)
            elif name == "machine_answered_by":
                if not isinstance(value, Mapping):
                    raise ModelError(name, "must be an object of verdict -> weight")
                kwargs[name] = value
            else:
                kwargs[name] = value
        return cls(**kwargs)

    @classmethod
    def from_json(cls, text: str) -> CarrierModel:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ModelError("carrier", f"not valid JSON: {exc}") from None
        return cls.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Duration | CalleeModel):
                data[f.name] = value.to_dict()
            elif isinstance(value, Mapping):
                data[f.name] = dict(value)
            elif isinstance(value, tuple):
                data[f.name] = list(value)
            else:
                data[f.name] = value
        return data


class IdempotencyConflict(ValueError):
    """A ``call_id`` was placed again with different numbers: a bug in the caller, never
    silently dialed (idempotency keys in the spirit of Stripe's)."""


@dataclass(frozen=True, slots=True)
class CallPlan:
    """The simulated truth of a call, including what has not happened yet: who answered, the
    callee's disposition, and every event the carrier will emit (after any hang-up)."""

    call_id: str
    provider_call_id: str
    fate: Fate
    disposition: Disposition | None
    answered_by: AnsweredBy | None
    events: tuple[ProviderEvent, ...]


_E164 = re.compile(r"\+[1-9]\d{6,14}")
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_US: Final = timedelta(microseconds=1)
_SECOND_US: Final = 1_000_000
_WORDS: Final = Struct("<16I")  # 16 uniforms from one 64-byte hash
_SCALE: Final = 2.0 ** -32
_CACHE_LIMIT: Final = 100_000  # entries of the small lookup caches before they start over
_MACHINE_START_S: Final = 3.5  # a machine_start verdict comes early in the greeting
# Draw slots: each quantity has its own uniforms, so changing one leaves the others alone.
_U_OUTCOME, _U_PDD, _U_RING, _U_TALK, _U_TALK2, _U_GREET, _U_GREET2 = 0, 1, 2, 3, 4, 5, 6
_U_MSG, _U_MSG2, _U_AMD, _U_VERDICT, _U_DISPOSITION, _U_RING2, _U_PDD2 = 7, 8, 9, 10, 11, 12, 13

# In the order of the model's cumulative outcome thresholds; the rest is no-answer.
_FATES: Final[tuple[Fate, ...]] = ("human", "busy", "machine", "failed", "invalid-number",
                                   "no-answer")
# (status, offset from placed_at in microseconds, answered_by, ended_reason)
_Step = tuple[ProviderStatus, int, AnsweredBy | None, EndedReason | None]


class _Call:
    """The carrier's bookkeeping of one accepted call."""

    __slots__ = ("answer_us", "answered_by", "delivered", "disposition", "fate", "greeting_s",
                 "placed_at", "placed_us", "request", "sid", "steps", "talk_s", "version")
    steps: tuple[_Step, ...]

    def __init__(self, request: DialRequest, sid: str, placed_at: datetime, placed_us: int,
                 fate: Fate, steps: list[_Step]) -> None:
        self.request = request
        self.sid = sid
        self.placed_at = placed_at
        self.placed_us = placed_us
        self.fate = fate
        self.steps = tuple(steps)
        self.delivered = 0  # steps handed out by events_due: always a prefix
        self.version = 0  # bumped by a hang-up: heap entries of older versions are stale
        self.answered_by: AnsweredBy | None = None
        self.disposition: Disposition | None = None
        self.answer_us = 0
        self.talk_s = 0.0
        self.greeting_s = 0.0

    def event(self, index: int) -> ProviderEvent:
        status, offset, answered_by, reason = self.steps[index]
        return ProviderEvent(status, self.placed_at + timedelta(0, 0, offset),
                             answered_by, reason)


class SimulatedCarrier:
    """A deterministic carrier. ``seed`` picks the simulated world; ``model`` its rates and
    durations. Not thread-safe: one worker loop (or a lock around it) drives it."""

    def __init__(self, model: CarrierModel | None = None, *, seed: int | str = 0) -> None:
        self.model = model or CarrierModel()
        self.seed = seed
        self._key = str(seed).encode() + b":"
        self._calls: dict[str, _Call] = {}
        self._by_sid: dict[str, _Call] = {}
        # (instant in us, call_id, step index, call version): atomic values only, so the
        # garbage collector stops tracking the entries (it showed in the benchmark).
        self._heap: list[tuple[int, str, int, int]] = []
        # The same shape, terminal steps only, for next_event_at(terminal_only=True); built
        # on its first use (None until then), so carriers that never ask pay nothing. Entries
        # are dropped lazily there (when delivered or stale): events_due never touches it.
        self._terminal_heap: list[tuple[int, str, int, int]] | None = None
        self._accepted_us: list[int] = []  # sorted placement instants, for the CPS limit
        self._now_us: int | None = None  # the latest until pulled: what has been reported
        self._zones: dict[str, ZoneInfo] = {}
        self._checked: set[str] = set()  # templates known to parse
        self._hours: dict[tuple[str, int], int] = {}
        m = self.model
        # Cumulative outcome thresholds per local hour, so a placement is one lookup.
        rest = (m.busy_rate, m.voicemail_rate, m.failure_rate, m.invalid_rate)
        self._thresholds: list[tuple[float, ...]] = []
        for hour in range(24):
            acc, cuts = m.answer_rate_at(hour), []
            cuts.append(acc)
            for rate in rest:
                acc += rate
                cuts.append(acc)
            self._thresholds.append(tuple(cuts))
        self._flat = self._thresholds[12] if len(set(self._thresholds)) == 1 else None
        total = sum(m.machine_answered_by.values())
        self._verdicts = [(verdict, weight / total)
                          for verdict, weight in m.machine_answered_by.items()]

    @property
    def now(self) -> datetime | None:
        """The latest ``until`` of :meth:`events_due` (None before the first pull)."""
        return None if self._now_us is None else _EPOCH + timedelta(0, 0, self._now_us)

    # --- placing ---------------------------------------------------------------------------

    def place_call(self, request: DialRequest) -> PlaceResult:
        known = self._calls.get(request.call_id)
        if known is not None:
            old = known.request
            if (old.to_number, old.from_number) != (request.to_number, request.from_number):
                raise IdempotencyConflict(
                    f"call {request.call_id!r} was placed to {old.to_number} from "
                    f"{old.from_number}, not to {request.to_number} from {request.from_number}")
            return Accepted(known.sid)
        if _E164.fullmatch(request.to_number) is None:
            return Rejected("invalid-number", retryable=False)  # Twilio 21211, synchronous
        if _E164.fullmatch(request.from_number) is None:
            return Rejected("carrier-rejected", retryable=False)
        # Fail before accepting, not when the transcript is built: a malformed template is
        # the dialer's bug (templates are checked when written).
        for template in (request.opening_message, request.voicemail_message):
            if template is not None and template not in self._checked:
                parse_template(template)
                if len(self._checked) > _CACHE_LIMIT:
                    self._checked.clear()
                self._checked.add(template)
        placed_at = request.placed_at.astimezone(UTC)
        placed_us = (placed_at - _EPOCH) // _US
        if not self._cps_allows(placed_us):
            return Rejected("carrier-rejected-cps", retryable=True)
        call = self._plan(request, placed_at, placed_us)
        if self.model.cps_limit is not None:
            insort(self._accepted_us, placed_us)
        self._calls[request.call_id] = call
        self._by_sid[call.sid] = call
        heap, call_id, steps = self._heap, request.call_id, call.steps
        for index, step in enumerate(steps):
            heappush(heap, (placed_us + step[1], call_id, index, 0))
        terminals = self._terminal_heap
        if terminals is not None:  # every plan ends with its one terminal step
            last = len(steps) - 1
            heappush(terminals, (placed_us + steps[last][1], call_id, last, 0))
        return Accepted(call.sid)

    def _cps_allows(self, placed_us: int) -> bool:
        """Would one more placement at ``placed_us`` keep every rolling second (a half-open
        window ``[t, t + 1 s)``) at or under the limit? Placements may arrive out of order."""
        limit = self.model.cps_limit
        if limit is None:
            return True
        times = self._accepted_us
        lo = bisect_right(times, placed_us - _SECOND_US)
        hi = bisect_left(times, placed_us + _SECOND_US)
        if hi - lo < limit:
            return True  # fewer neighbours in (p - 1 s, p + 1 s) than the limit: no window fills
        near = times[lo:hi]
        insort(near, placed_us)
        # The fullest window holding p starts at a placement in (p - 1 s, p].
        end = 0
        for start, t in enumerate(near):
            if t > placed_us:
                break
            end = max(end, start)
            while end < len(near) and near[end] < t + _SECOND_US:
                end += 1
            if end - start > limit:
                return False
        return True

    def _local_hour(self, zones: tuple[str, ...], placed_us: int) -> int | None:
        if not zones:
            return None
        name = zones[0]
        # Offsets and DST changes fall on quarter hours, so the hour is constant per bucket.
        key = (name, placed_us // 900_000_000)
        hour = self._hours.get(key)
        if hour is None:
            zone = self._zones.get(name)
            if zone is None:
                try:
                    zone = self._zones[name] = ZoneInfo(name)
                except (ZoneInfoNotFoundError, ValueError):
                    raise ValueError(f"unknown callee time zone {name!r}") from None
            instant = _EPOCH + timedelta(microseconds=key[1] * 900_000_000)
            if len(self._hours) > _CACHE_LIMIT:
                self._hours.clear()
            hour = self._hours[key] = instant.astimezone(zone).hour
        return hour

    def _plan(self, request: DialRequest, placed_at: datetime, placed_us: int) -> _Call:
        """Decide the call's fate and timeline from its hash: a pure function of
        ``(seed, call_id)``, the request and the model."""
        m = self.model
        digest = blake2b(self._key + request.call_id.encode(), digest_size=64).digest()
        w: tuple[int, ...] = _WORDS.unpack(digest)
        sid = "CA" + digest[48:].hex()  # a Twilio-shaped Call SID

        def u(slot: int) -> float:
            return (w[slot] + 0.5) * _SCALE

        hour = self._local_hour(request.callee_zones, placed_us)
        cuts = self._flat or self._thresholds[12 if hour is None else hour]
        fate = _FATES[bisect_right(cuts, u(_U_OUTCOME))]

        if fate == "invalid-number":  # the network knows at once: no ringing
            return _Call(request, sid, placed_at, placed_us, fate,
                         [("failed", 0, None, "invalid-number")])
        ring_at = _us(m.post_dial_delay.at(u(_U_PDD), u(_U_PDD2)))
        if fate == "failed":
            return _Call(request, sid, placed_at, placed_us, fate,
                         [("initiated", 0, None, None), ("failed", ring_at, None, None)])
        steps: list[_Step] = [("initiated", 0, None, None), ("ringing", ring_at, None, None)]
        timeout_us = _us(m.ring_timeout_s)
        if fate == "busy":
            busy_us = min(_us(m.busy_after.at(u(_U_RING), u(_U_RING2))), timeout_us)
            steps.append(("busy", ring_at + busy_us, None, None))
            return _Call(request, sid, placed_at, placed_us, fate, steps)
        if fate in ("human", "machine"):
            ring = m.ring_time if fate == "human" else m.machine_ring_time
            ring_us = _us(ring.at(u(_U_RING), u(_U_RING2)))
            if ring_us >= timeout_us:
                fate = "no-answer"  # they would have picked up after the carrier gave up
        if fate == "no-answer":
            steps.append(("no-answer", ring_at + timeout_us, None, None))
            return _Call(request, sid, placed_at, placed_us, fate, steps)

        answer_us = ring_at + ring_us
        detect = request.machine_detection
        answered_by: AnsweredBy | None = None
        reason: EndedReason | None = None
        disposition: Disposition | None = None
        greeting_s = 0.0
        inconclusive = detect and u(_U_AMD) < m.amd_unknown_rate
        if fate == "human":
            if detect:
                answered_by = "unknown" if inconclusive else "human"
            disposition = m.callee.choose(u(_U_DISPOSITION))
            if disposition == "opt-out":
                reason = "customer-opted-out"  # the assistant confirms and ends the call
            talk_s = (m.talk_time.at(u(_U_TALK), u(_U_TALK2))
                      * m.callee.talk_factor[disposition])
        else:
            greeting_s = m.voicemail_greeting.at(u(_U_GREET), u(_U_GREET2))
            message_s = m.voicemail_message.at(u(_U_MSG), u(_U_MSG2))
            if not detect:
                talk_s = greeting_s + message_s  # the assistant talks on, to a machine
            elif inconclusive or greeting_s > request.machine_detection_timeout_s:
                answered_by = "unknown"
                talk_s = greeting_s + message_s
            elif request.voicemail_message is not None:
                answered_by = self._verdict(u(_U_VERDICT))
                # Wait for the beep, then leave the message.
                talk_s = greeting_s + simulated_callee.BEEP_S + message_s
                reason = "voicemail"
            else:
                answered_by = "machine_start"
                talk_s = min(greeting_s, _MACHINE_START_S)  # nothing to say: hang up
                reason = "machine-detected-hangup"
        steps.append(("in-progress", answer_us, answered_by, None))
        steps.append(("completed", answer_us + _us(talk_s), answered_by, reason))
        call = _Call(request, sid, placed_at, placed_us, fate, steps)
        call.answer_us, call.answered_by, call.talk_s = answer_us, answered_by, talk_s
        call.disposition, call.greeting_s = disposition, greeting_s
        return call

    def _verdict(self, draw: float) -> AnsweredBy:
        for verdict, share in self._verdicts:
            draw -= share
            if draw < 0:
                return verdict
        return self._verdicts[-1][0]

    # --- reporting -------------------------------------------------------------------------

    def events_due(self, until: datetime) -> list[CallEvent]:
        if until.utcoffset() is None:
            raise ValueError(f"until must be timezone-aware, got {until!r}")
        until_us = (until - _EPOCH) // _US
        if self._now_us is None or until_us > self._now_us:
            self._now_us = until_us
        heap, calls, due = self._heap, self._calls, []
        while heap and heap[0][0] <= until_us:
            _, call_id, index, version = heappop(heap)
            call = calls[call_id]
            if version != call.version:
                continue  # superseded by a hang-up
            call.delivered = index + 1
            status, offset, answered_by, reason = call.steps[index]
            at = call.placed_at + timedelta(0, 0, offset)  # positional: 40% faster
            due.append(CallEvent(call_id, call.sid,
                                 ProviderEvent(status, at, answered_by, reason)))
        return due

    def next_event_at(self, *, terminal_only: bool = False) -> datetime | None:
        """The instant (aware, UTC) of the earliest event :meth:`events_due` has not returned
        yet, or with ``terminal_only`` of the earliest such call-ending event; None if there is
        none. A discrete-event simulator jumps its clock here instead of ticking through idle
        time. It may lie before :attr:`now` (a call placed in the past).

        Called once per simulated step, so amortised O(log n): heap entries superseded by a
        hang-up (and, for terminals, already delivered) are popped off the top here, each once;
        :meth:`events_due` would have skipped them anyway. The terminal heap is built on the
        first ``terminal_only`` call (O(n) once) and kept up from then on."""
        calls = self._calls
        if terminal_only:
            heap = self._terminal_heap
            if heap is None:
                heap = self._terminal_heap = self._terminals()
            while heap:
                _, call_id, index, version = heap[0]
                call = calls[call_id]
                if version == call.version and index >= call.delivered:
                    break
                heappop(heap)
        else:
            heap = self._heap
            # Entries in the main heap are undelivered by construction (events_due pops what
            # it hands out), so staleness is the only thing to skip.
            while heap and heap[0][3] != calls[heap[0][1]].version:
                heappop(heap)
        if not heap:
            return None
        return _EPOCH + timedelta(0, 0, heap[0][0])

    def _terminals(self) -> list[tuple[int, str, int, int]]:
        """The terminal heap as of now: each call's last step if not delivered yet."""
        heap = [(call.placed_us + call.steps[-1][1], call_id, len(call.steps) - 1, call.version)
                for call_id, call in self._calls.items() if call.delivered < len(call.steps)]
        heapify(heap)
        return heap

    def lookup(self, call_id: str) -> ProviderCallRecord | None:
        call = self._calls.get(call_id)
        if call is None:
            return None
        # Nothing reported yet (-1): the call is as it was created.
        now = -1 if self._now_us is None else self._now_us - call.placed_us
        status: ProviderStatus = "queued"
        status_at = call.placed_at
        answered_by: AnsweredBy | None = None
        answered_at = ended_at = None
        reason: EndedReason | None = None
        for index, (step_status, offset, step_answerer, step_reason) in enumerate(call.steps):
            if offset > now:
                break
            event = call.event(index)
            status, status_at = step_status, event.at or call.placed_at
            if step_status == "in-progress":
                answered_by, answered_at = step_answerer, event.at
            if step_status in TERMINAL_PROVIDER_STATUSES:
                ended_at, reason = event.at, step_reason
        req = call.request
        return ProviderCallRecord(call_id, call.sid, req.from_number, req.to_number,
                                  call.placed_at, status, status_at, answered_by, answered_at,
                                  ended_at, reason)

    def conversation(self, provider_call_id: str) -> Transcript | None:
        call = self._by_sid.get(provider_call_id)
        if call is None or call.fate not in ("human", "machine"):
            return None
        if not any(step[0] == "in-progress" for step in call.steps):
            return None  # canceled before the answer
        end_us = call.steps[-1][1]
        talk_s = (end_us - call.answer_us) / _SECOND_US  # shorter than planned after a hang-up
        req = call.request
        # A greeting may read the number out; the contact's own fields win.
        context = {"phone": req.to_number, **req.context}
        if call.fate == "human" and call.disposition is not None:
            turns = simulated_callee.conversation(
                self.seed, req.call_id, call.disposition, opening=req.opening_message,
                context=context, talk_s=call.talk_s, model=self.model.callee)
        else:
            # Only a confirmed machine gets the voicemail message; otherwise the assistant
            # speaks its opening as if to a person (or hangs up on a machine_start).
            message: str | None
            if call.answered_by in _MACHINE_END:
                message = req.voicemail_message
            elif call.answered_by == "machine_start":
                message = None
            else:
                message = req.opening_message
            turns = simulated_callee.voicemail(
                self.seed, req.call_id, message=message, context=context,
                greeting_s=call.greeting_s, talk_s=call.talk_s)
        cut = tuple(_cut(turn, talk_s) for turn in turns if turn.start_s < talk_s)
        return Transcript(provider_call_id, cut, round(talk_s, 3))

    # --- steering --------------------------------------------------------------------------

    def hangup(self, call_id: str, at: datetime) -> bool:
        """End the call at ``at`` (not before the carrier's now): an answered call completes
        (``assistant-ended-call``), one still ringing is canceled, as Twilio's call update.
        False if the call is unknown or already over by then."""
        call = self._calls.get(call_id)
        if call is None:
            return False
        if at.utcoffset() is None:
            raise ValueError(f"at must be timezone-aware, got {at!r}")
        at_us = (at - _EPOCH) // _US
        if self._now_us is not None:
            at_us = max(at_us, self._now_us)
        offset = max(at_us - call.placed_us, 0)  # not before the call was placed
        steps = call.steps
        if steps[-1][1] <= offset:
            return False  # over by then
        kept = [step for step in steps if step[1] <= offset]
        answered = next((step for step in kept if step[0] == "in-progress"), None)
        if answered is not None:
            kept.append(("completed", offset, answered[2], "assistant-ended-call"))
        else:
            kept.append(("canceled", offset, None, None))
        call.steps = tuple(kept)
        call.version += 1
        for index in range(call.delivered, len(kept)):
            heappush(self._heap, (call.placed_us + kept[index][1], call_id, index, call.version))
        if self._terminal_heap is not None:
            last = len(kept) - 1  # the new terminal step, never delivered yet
            heappush(self._terminal_heap,
                     (call.placed_us + kept[last][1], call_id, last, call.version))
        return True

    def plan(self, call_id: str) -> CallPlan | None:
        """The simulated truth of an accepted call, future events included."""
        call = self._calls.get(call_id)
        if call is None:
            return None
        return CallPlan(call_id, call.sid, call.fate, call.disposition, call.answered_by,
                        tuple(call.event(i) for i in range(len(call.steps))))


def _us(seconds: float) -> int:
    return round(seconds * _SECOND_US)


def _cut(turn: Turn, end_s: float) -> Turn:
    """A turn interrupted by a hang-up."""
    if turn.end_s <= end_s:
        return turn
    return Turn(turn.speaker, turn.text, turn.start_s, round(end_s, 3))
