from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import fields, replace
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringwise.telephony import (
    Accepted,
    CallEvent,
    CarrierModel,
    DialRequest,
    IdempotencyConflict,
    SimulatedCarrier,
    SupportsHangup,
    TelephonyProvider,
)
from ringwise.telephony.journal import JournaledCarrier
from tests.telephony.test_simulated_carrier import FLAT, T0, first, request, spread

FAR = T0 + timedelta(days=2)


def journal(path: Path, model: CarrierModel = FLAT, seed: int | str = 5) -> JournaledCarrier:
    return JournaledCarrier(path, model, seed=seed, fsync=False)


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def in_order(events: list[CallEvent]) -> list[CallEvent]:
    return sorted(events, key=lambda e: (e.at, e.call_id))  # stable: a call's order kept


def test_a_journaled_carrier_is_a_telephony_provider_that_can_hang_up(tmp_path: Path) -> None:
    with journal(tmp_path / "j") as carrier:
        provider: TelephonyProvider = carrier
        assert isinstance(provider, SupportsHangup)


# --- replay ------------------------------------------------------------------------------------

CALLS = 12
OPS = st.lists(st.tuples(st.sampled_from(["place", "pull", "hangup"]), st.integers(0, CALLS - 1),
                         st.integers(-20_000, 40_000)), max_size=60)


@given(ops=OPS)
def test_replay_rebuilds_the_world_of_an_uninterrupted_carrier(
        ops: list[tuple[str, int, int]]) -> None:
    model = replace(FLAT, cps_limit=2)  # some placements rejected: those are not journaled
    plain = SimulatedCarrier(model, seed=5)
    reported: list[CallEvent] = []
    placed: list[str] = []
    now = T0
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "carrier.jsonl"
        with journal(path, model) as carrier:
            for op, i, ms in ops:  # instants around the carrier's now, before it too
                at = now + timedelta(milliseconds=ms)
                if op == "place":
                    req = request(i, at)
                    result = carrier.place_call(req)
                    assert result == plain.place_call(req)
                    placed += [req.call_id] if isinstance(result, Accepted) else []
                elif op == "pull":
                    now += timedelta(milliseconds=abs(ms))
                    due = plain.events_due(now)
                    assert carrier.events_due(now) == due
                    reported += due
                elif placed:  # a hang-up before now takes effect at now
                    call_id = placed[i % len(placed)]
                    assert carrier.hangup(call_id, at) == plain.hangup(call_id, at)
        reopened = journal(path, model)
        with reopened:
            assert reopened.now is None  # nothing reported since the restart
            replayed = reopened.events_due(FAR)
            assert replayed == in_order(replayed)
            # Every event again, the ones the crashed worker saw included.
            assert replayed == in_order(reported + plain.events_due(FAR))
            for i in range(CALLS):
                record = plain.lookup(f"call-{i}")
                assert reopened.lookup(f"call-{i}") == record
                assert reopened.plan(f"call-{i}") == plain.plan(f"call-{i}")
                if record is not None:
                    sid = record.provider_call_id
                    assert reopened.conversation(sid) == plain.conversation(sid)


def test_after_reopening_next_event_at_starts_from_the_first_event_again(
        tmp_path: Path) -> None:
    path = tmp_path / "j"
    with journal(path) as carrier:
        for req in spread(20):
            carrier.place_call(req)
        carrier.events_due(T0 + timedelta(minutes=5))
        assert carrier.next_event_at() is None
    with journal(path) as carrier:
        assert carrier.next_event_at() == T0
        terminal = carrier.next_event_at(terminal_only=True)
        assert terminal == next(e.at for e in carrier.events_due(FAR) if e.event.is_terminal)


def test_a_hangup_is_journaled_at_the_instant_it_took_effect(tmp_path: Path) -> None:
    path = tmp_path / "j"
    requests = spread(50)
    with journal(path, seed=4) as carrier:
        for req in requests:
            carrier.place_call(req)
        call = first(carrier._carrier, "no-answer", requests)
        now = call.placed_at + timedelta(seconds=10)
        carrier.events_due(now)
        assert carrier.hangup(call.call_id, call.placed_at)  # in the past: takes effect now
        assert not carrier.hangup(call.call_id, now)  # already over: nothing journaled
        plan = carrier.plan(call.call_id)
    assert [r for r in lines(path) if r["kind"] == "hangup"] == [
        {"kind": "hangup", "call_id": call.call_id, "at": now.isoformat()}]
    with journal(path, seed=4) as carrier:
        assert carrier.plan(call.call_id) == plan
        assert plan is not None and plan.events[-1].status == "canceled"


def test_every_request_field_is_journaled_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "j"
    local = T0.astimezone(ZoneInfo("America/New_York"))  # an offset other than UTC
    req = request(7, local, callee_zones=("America/Boise", "America/Los_Angeles"),
                  machine_detection=False, machine_detection_timeout_s=12,
                  voicemail_message=None,
                  context={"first_name": "Dana", "custom_fields": {"brand": "Acme"}, "n": 3})
    with journal(path) as carrier:
        sid = carrier.place_call(req)
    header, placed = lines(path)
    assert header["kind"] == "header" and header["seed"] == 5
    assert header["model"] == json.loads(json.dumps(FLAT.to_dict()))
    assert set(placed) - {"kind"} == {f.name for f in fields(DialRequest)}
    assert placed["placed_at"] == "2026-03-02T10:00:00-05:00"
    assert placed["context"] == {"first_name": "Dana", "custom_fields": {"brand": "Acme"},
                                 "n": 3}
    with journal(path) as carrier:
        assert carrier.place_call(req) == sid
        plain = SimulatedCarrier(FLAT, seed=5)
        plain.place_call(req)
        assert carrier.plan(req.call_id) == plain.plan(req.call_id)


# --- idempotency -------------------------------------------------------------------------------

def test_placing_again_after_reopening_returns_the_same_call_and_journals_nothing(
        tmp_path: Path) -> None:
    path = tmp_path / "j"
    with journal(path) as carrier:
        accepted = carrier.place_call(request(1))
        assert isinstance(accepted, Accepted)
        assert carrier.place_call(request(1)) == accepted  # a repeat writes nothing either
    size = path.stat().st_size
    with journal(path) as carrier:
        later = request(1, T0 + timedelta(minutes=3))  # the retry of a restarted worker
        assert carrier.place_call(later) == accepted
        with pytest.raises(IdempotencyConflict):
            carrier.place_call(request(1, to_number="+13125559999"))
    assert path.stat().st_size == size
    assert len(lines(path)) == 2


def test_rejected_placements_are_not_journaled(tmp_path: Path) -> None:
    path = tmp_path / "j"
    with journal(path, replace(FLAT, cps_limit=1)) as carrier:
        assert isinstance(carrier.place_call(request(1)), Accepted)
        assert not isinstance(carrier.place_call(request(2)), Accepted)  # over the CPS limit
        assert not isinstance(carrier.place_call(request(3, to_number="555")), Accepted)
    assert [r["call_id"] for r in lines(path) if r["kind"] == "place"] == ["call-1"]


def test_a_context_json_cannot_hold_is_refused_before_placing(tmp_path: Path) -> None:
    with journal(tmp_path / "j") as carrier:
        with pytest.raises(TypeError, match="call-1"):
            carrier.place_call(request(1, context={"since": T0}))
        assert carrier.lookup("call-1") is None
        assert isinstance(carrier.place_call(request(1)), Accepted)


# --- damage and mismatch -----------------------------------------------------------------------

def test_a_torn_last_line_is_dropped_and_the_journal_stays_appendable(tmp_path: Path) -> None:
    path = tmp_path / "j"
    with journal(path) as carrier:
        carrier.place_call(request(1))
        carrier.place_call(request(2))
    whole = path.read_bytes()
    path.write_bytes(whole[:-25])  # a crash in the middle of writing call-2
    with journal(path) as carrier:
        assert carrier.lookup("call-1") is not None
        assert carrier.lookup("call-2") is None  # never acknowledged
        carrier.place_call(request(3))
    with journal(path) as carrier:  # the new record was not glued onto the torn one
        assert [carrier.lookup(f"call-{i}") is not None for i in (1, 2, 3)] == [
            True, False, True]
    assert [r.get("call_id") for r in lines(path)] == [None, "call-1", "call-3"]


def test_a_torn_header_starts_the_journal_over(tmp_path: Path) -> None:
    path = tmp_path / "j"
    path.write_bytes(b'{"kind": "header", "form')
    with journal(path) as carrier:
        carrier.place_call(request(1))
    with journal(path) as carrier:
        assert carrier.lookup("call-1") is not None


def test_damage_before_the_last_line_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "j"
    with journal(path) as carrier:
        carrier.place_call(request(1))
        carrier.place_call(request(2))
    header, one, two = path.read_text().splitlines(keepends=True)
    path.write_text(header + one[:-10] + "\n" + two)
    with pytest.raises(ValueError, match="line 2"):
        journal(path)
    path.write_text("call-1,+13125550001\n")
    with pytest.raises(ValueError, match="not"):
        journal(path)


def test_a_journal_of_another_seed_or_model_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "j"
    with journal(path, seed=5) as carrier:
        carrier.place_call(request(1))
    with pytest.raises(ValueError, match="seed 5, not 6"):
        journal(path, seed=6)
    with pytest.raises(ValueError, match="seed"):
        journal(path, seed="5")
    with pytest.raises(ValueError, match=r"another carrier model .*answer_rate"):
        journal(path, replace(FLAT, answer_rate=0.3))
    with pytest.raises(ValueError, match="talk_time"):
        journal(path, replace(FLAT, talk_time=replace(FLAT.talk_time, sigma=0.5)))
    with journal(path, replace(FLAT)) as carrier:  # an equal model is the same world
        assert carrier.lookup("call-1") is not None


def test_a_failed_write_stops_the_carrier(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "j"
    carrier = JournaledCarrier(path, FLAT, seed=5, fsync=True)

    def broken(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken)
    with pytest.raises(OSError):
        carrier.place_call(request(1))
    with pytest.raises(RuntimeError, match="reopen"):
        carrier.lookup("call-1")
    carrier.close()
    monkeypatch.undo()
    with journal(path) as reopened:  # the disk tells: written, not acknowledged, but there
        assert reopened.lookup("call-1") is not None


# --- kill -9 -----------------------------------------------------------------------------------

CHILD = """
import os, signal, sys
from datetime import timedelta
from ringwise.telephony import CarrierModel
from ringwise.telephony.journal import JournaledCarrier
from tests.telephony.test_simulated_carrier import T0, request

carrier = JournaledCarrier(sys.argv[1], CarrierModel(cps_limit=None), seed=3)
stop_after = int(sys.argv[2])
i = 0
while True:
    result = carrier.place_call(request(i, T0 + timedelta(seconds=i)))
    if i == stop_after:
        os.kill(os.getpid(), signal.SIGKILL)  # right after place_call returned
    print(f"call-{i} {result.provider_call_id}", flush=True)
    i += 1
"""
posix_only = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")


def child(path: Path, stop_after: int) -> subprocess.Popen[str]:
    root = Path(__file__).parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(root), str(root / "src"), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(stop_after)],
                            cwd=root, env=env, stdout=subprocess.PIPE, text=True)


def expected_sid(call_id: str) -> str:
    plain = SimulatedCarrier(CarrierModel(cps_limit=None), seed=3)
    i = int(call_id.removeprefix("call-"))
    result = plain.place_call(request(i, T0 + timedelta(seconds=i)))
    assert isinstance(result, Accepted)
    return result.provider_call_id


@posix_only
def test_a_call_accepted_just_before_kill_9_is_found_after_the_restart(tmp_path: Path) -> None:
    path = tmp_path / "carrier.jsonl"
    process = child(path, stop_after=7)
    out, _ = process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    assert len(out.splitlines()) == 7  # calls 0-6 printed; 7 accepted, then killed
    with JournaledCarrier(path, CarrierModel(cps_limit=None), seed=3) as carrier:
        record = carrier.lookup("call-7")
        assert record is not None and record.provider_call_id == expected_sid("call-7")
        assert carrier.lookup("call-8") is None


@posix_only
def test_every_acceptance_a_caller_saw_survives_a_kill_9_at_any_moment(tmp_path: Path) -> None:
    path = tmp_path / "carrier.jsonl"
    process = child(path, stop_after=-1)  # places until killed
    assert process.stdout is not None
    seen = [process.stdout.readline().split() for _ in range(200)]
    process.send_signal(signal.SIGKILL)  # wherever it is: placing, writing, printing
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    with JournaledCarrier(path, CarrierModel(cps_limit=None), seed=3) as carrier:
        for call_id, sid in seen:
            record = carrier.lookup(call_id)
            assert record is not None and record.provider_call_id == sid
        assert seen[-1][1] == expected_sid(seen[-1][0])
        carrier.place_call(request(10_000, T0))  # and the journal takes new calls
    assert sum(1 for line in path.read_text().splitlines()
               if '"call-10000"' in line) == 1
