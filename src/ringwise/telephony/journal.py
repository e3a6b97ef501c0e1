"""A durable simulated carrier: :class:`SimulatedCarrier` plus an append-only journal, so the
simulated world outlives a worker killed with ``kill -9``.

Why: after a crash the dialer reconciles every call left ``dialing`` by asking the carrier
(:meth:`~ringwise.telephony.port.TelephonyProvider.lookup`) whether it ever received it. A real
carrier remembers; an in-memory one dies with the worker and would answer "never", and the
dialer would ring the callee a second time. The journal makes the simulated carrier remember.

What is journaled is only what the world is made of. A call's fate is a pure function of
``(seed, call_id)``, the request and the model, so the journal holds a header (seed and model)
and, in order, every accepted *new* placement (the whole :class:`DialRequest`) and every
effective hang-up. Reopening replays them into a fresh carrier and rebuilds the same calls.

The format is JSON lines, one record per line::

    {"kind": "header", "format": 1, "seed": 7, "model": {...CarrierModel.to_dict()...}}
    {"kind": "place", "call_id": "...", ..., "placed_at": "2026-03-02T15:00:00+00:00", ...}
    {"kind": "hangup", "call_id": "...", "at": "2026-03-02T15:00:41.250000+00:00"}

A record is on disk (written, and fsync'ed unless ``fsync=False``) before the call that made
it returns, so an :class:`Accepted` the caller saw survives the crash. A crash mid-write leaves a
last line without its newline: it was never acknowledged, so it is dropped on reopening.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Final

from ringwise.telephony.port import (
    Accepted,
    CallEvent,
    DialRequest,
    PlaceResult,
    ProviderCallRecord,
    Transcript,
)
from ringwise.telephony.simulated import CallPlan, CarrierModel, SimulatedCarrier

__all__ = ["JournaledCarrier"]

FORMAT: Final = 1
# Every field of DialRequest, in the order written; a test checks none is missing.
_REQUEST_FIELDS: Final = tuple(f.name for f in fields(DialRequest))


class JournaledCarrier:
    """A :class:`SimulatedCarrier` whose placements and hang-ups are journaled to ``path``.

    Opening an existing journal replays it (same ``seed`` and ``model`` required: a journal of
    another world is refused with :class:`ValueError`, as replaying it would silently give
    other calls). After replay the carrier has reported nothing yet: the first
    ``events_due(until)`` hands out again every event up to ``until`` of the replayed calls,
    including those the crashed worker already applied. That is harmless: the dialer's state
    machine (``core.call_states.apply_event``) is monotone, so a repeated event changes
    nothing. Likewise :meth:`lookup` answers ``queued`` for every replayed call until the first
    pull, and a hang-up before that pull is not held back by the pre-crash "now".

    ``fsync=False`` still writes each record to the OS before returning, which survives the
    process being killed, but not the machine losing power; tests and benchmarks use it.

    Not thread-safe, like the carrier it wraps: one worker loop drives it. One process at a
    time per journal (nothing locks the file). If a write fails the carrier stops (every later
    call raises :class:`RuntimeError`): memory may then hold a call the disk does not, and only
    reopening, which replays the disk, tells the truth again.
    """

    def __init__(self, path: str | Path, model: CarrierModel | None = None, *,
                 seed: int | str = 0, fsync: bool = True) -> None:
        self.path = Path(path)
        self._fsync = fsync
        self._carrier = SimulatedCarrier(model, seed=seed)
        self._journaled: set[str] = set()  # call ids with a place record on disk
        self._failure: BaseException | None = None
        header = {"kind": "header", "format": FORMAT, "seed": seed,
                  "model": self._carrier.model.to_dict()}
        records, complete_bytes = self._read()
        if records:
            self._check_header(records[0], header)
            for number, record in enumerate(records[1:], start=2):
                self._replay(record, number)
        fresh = not records
        if fresh:
            complete_bytes = 0  # at most a torn header: start over
        if self.path.exists() and self.path.stat().st_size != complete_bytes:
            # Drop a torn last line, or the next record would be glued onto it.
            os.truncate(self.path, complete_bytes)
        self._file = open(self.path, "ab", buffering=0)  # noqa: SIM115 - open as long as self
        if fresh:
            self._append(header)
            if fsync:
                _fsync_directory(self.path.parent)  # the new file's name is durable too

    # --- the journal -----------------------------------------------------------------------

    def _read(self) -> tuple[list[dict[str, Any]], int]:
        """The complete records, and the byte length they span (a torn tail excluded)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return [], 0
        end = data.rfind(b"\n") + 1  # 0 without any complete line
        records: list[dict[str, Any]] = []
        for number, line in enumerate(data[:end].splitlines(), start=1):
            try:
                record = json.loads(line)
            except ValueError:
                raise ValueError(f"{self.path}: line {number} is not valid JSON; the journal "
                                 "is damaged (only a torn last line is expected)") from None
            if not isinstance(record, dict) or not isinstance(record.get("kind"), str):
                raise ValueError(f"{self.path}: line {number} is not a journal record")
            records.append(record)
        return records, end

    def _check_header(self, record: Mapping[str, Any], expected: Mapping[str, Any]) -> None:
        if record.get("kind") != "header":
            raise ValueError(f"{self.path} is not a carrier journal (no header line)")
        if record.get("format") != FORMAT:
            raise ValueError(f"{self.path}: journal format {record.get('format')!r}, "
                             f"this version reads {FORMAT}")
        seed = record.get("seed")
        if seed != expected["seed"] or type(seed) is not type(expected["seed"]):
            raise ValueError(f"{self.path} was written with seed {seed!r}, not "
                             f"{expected['seed']!r}: replaying it would give other calls")
        wanted = _as_json(expected["model"])
        written = record.get("model")
        if written != wanted:
            known = written if isinstance(written, dict) else {}
            differ = sorted(name for name in set(known) | set(wanted)
                            if known.get(name) != wanted.get(name))
            raise ValueError(f"{self.path} was written with another carrier model (differs "
                             f"in: {', '.join(differ) or 'its shape'}): replaying it would give "
                             "other calls")

    def _replay(self, record: Mapping[str, Any], number: int) -> None:
        where = f"{self.path}: line {number}"
        try:
            kind = record["kind"]
            if kind == "place":
                request = _request_from(record)
                if not isinstance(self._carrier.place_call(request), Accepted):
                    raise ValueError("the journaled placement is not accepted on replay")
                self._journaled.add(request.call_id)
            elif kind == "hangup":
                at = _instant(record["at"])
                if not self._carrier.hangup(record["call_id"], at):
                    raise ValueError("the journaled hang-up changes nothing on replay")
            else:
                raise ValueError(f"unknown record kind {kind!r}")
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{where}: cannot replay {record!r}: {exc}") from None

    def _append(self, record: Mapping[str, Any]) -> None:
        self._write(_encode(record))

    def _write(self, line: bytes) -> None:
        try:
            view = memoryview(line)
            while view:
                written = self._file.write(view)
                if written is None:  # only for non-blocking files; never for a regular one
                    raise OSError("the journal write would block")
                view = view[written:]
            if self._fsync:
                os.fsync(self._file.fileno())
        except BaseException as exc:
            self._failure = exc
            raise

    def _usable(self) -> SimulatedCarrier:
        if self._failure is not None:
            raise RuntimeError(f"the carrier journal {self.path} failed to write "
                               f"({self._failure!r}); reopen it") from self._failure
        if self._file.closed:
            raise RuntimeError(f"the carrier journal {self.path} is closed")
        return self._carrier

    def close(self) -> None:
        """Close the journal file; the carrier is unusable afterwards."""
        self._file.close()

    def __enter__(self) -> JournaledCarrier:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    # --- the provider port -----------------------------------------------------------------

    @property
    def model(self) -> CarrierModel:
        return self._carrier.model

    @property
    def seed(self) -> int | str:
        return self._carrier.seed

    @property
    def now(self) -> datetime | None:
        """The latest ``until`` pulled since this carrier was opened (not journaled)."""
        return self._carrier.now

    def place_call(self, request: DialRequest) -> PlaceResult:
        """As :meth:`SimulatedCarrier.place_call`; a new accepted call is on disk before this
        returns. Rejections and idempotent repeats write nothing. The request is encoded
        before placing, so a ``context`` that JSON cannot hold (a :class:`TypeError`) leaves
        no call behind."""
        carrier = self._usable()
        if request.call_id in self._journaled:
            return carrier.place_call(request)  # a repeat (or an IdempotencyConflict)
        line = _encode(_request_record(request))
        result = carrier.place_call(request)
        if isinstance(result, Accepted):
            self._write(line)
            self._journaled.add(request.call_id)
        return result

    def events_due(self, until: datetime) -> list[CallEvent]:
        return self._usable().events_due(until)

    def next_event_at(self, *, terminal_only: bool = False) -> datetime | None:
        return self._usable().next_event_at(terminal_only=terminal_only)

    def lookup(self, call_id: str) -> ProviderCallRecord | None:
        return self._usable().lookup(call_id)

    def conversation(self, provider_call_id: str) -> Transcript | None:
        return self._usable().conversation(provider_call_id)

    def plan(self, call_id: str) -> CallPlan | None:
        return self._usable().plan(call_id)

    def hangup(self, call_id: str, at: datetime) -> bool:
        """As :meth:`SimulatedCarrier.hangup`; an effective hang-up is on disk before this
        returns. The instant journaled is the one it took effect at (never before the
        carrier's now), so the replay, which starts with nothing reported, cuts the call at
        the same instant."""
        carrier = self._usable()
        now = carrier.now
        effective = now if now is not None and at.utcoffset() is not None and at < now else at
        if not carrier.hangup(call_id, effective):
            return False
        self._append({"kind": "hangup", "call_id": call_id, "at": effective.isoformat()})
        return True


def _request_record(request: DialRequest) -> dict[str, Any]:
    record: dict[str, Any] = {"kind": "place"}
    for name in _REQUEST_FIELDS:
        value = getattr(request, name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, Mapping):
            value = dict(value)
        record[name] = value
    return record


def _request_from(record: Mapping[str, Any]) -> DialRequest:
    values = {name: record[name] for name in _REQUEST_FIELDS}
    values["placed_at"] = _instant(values["placed_at"])
    values["callee_zones"] = tuple(values["callee_zones"])
    if not isinstance(values["context"], dict):
        raise TypeError("context must be an object")
    return DialRequest(**values)


def _instant(text: Any) -> datetime:
    if not isinstance(text, str):
        raise TypeError(f"an instant must be an ISO-8601 string, got {text!r}")
    return datetime.fromisoformat(text)


def _encode(record: Mapping[str, Any]) -> bytes:
    try:
        text = json.dumps(record, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise TypeError(f"cannot journal call {record.get('call_id')!r}: {exc} (the context "
                        "must hold JSON values only)") from None
    return text.encode() + b"\n"


def _as_json(value: Any) -> Any:
    """``value`` as it reads back from the journal (tuples become lists, and so on)."""
    return json.loads(json.dumps(value))


def _fsync_directory(directory: Path) -> None:
    if os.name != "posix":
        return  # directories cannot be opened (nor need syncing) elsewhere
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
