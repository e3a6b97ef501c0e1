"""The results worker loop: runs every runner, keeps going when one fails, sleeps until the
earliest next due work, and releases its resources when stopped."""

from __future__ import annotations

from datetime import datetime, timedelta

from ringwise.clock import ManualClock
from ringwise.results.worker import BATCH, ERROR_BACKOFF_S, ResultsWorker


class FakeRunner:
    def __init__(self, work: list[int], due: datetime | None = None,
                 fails: bool = False) -> None:
        self.work = work
        self.due = due
        self.fails = fails
        self.calls = 0

    def run_due(self, limit: int = BATCH) -> int:
        self.calls += 1
        if self.fails:
            raise RuntimeError("database is down")
        return self.work.pop(0) if self.work else 0

    def next_due(self) -> datetime | None:
        return self.due


def test_a_full_batch_means_look_again_at_once(clock: ManualClock) -> None:
    worker = ResultsWorker([FakeRunner([BATCH]), FakeRunner([1])], clock, poll_interval=0.5)
    assert worker.step() == 0.0


def test_idle_sleeps_until_the_earliest_due_work(clock: ManualClock) -> None:
    soon = FakeRunner([], due=clock.now() + timedelta(seconds=0.2))
    later = FakeRunner([], due=clock.now() + timedelta(hours=1))
    worker = ResultsWorker([later, soon], clock, poll_interval=0.5)
    assert worker.step() == 0.2
    assert ResultsWorker([later], clock, poll_interval=0.5).step() == 0.5  # capped
    assert ResultsWorker([FakeRunner([])], clock, poll_interval=0.3).step() == 0.3


def test_a_failing_runner_backs_off_and_counts_the_error(clock: ManualClock) -> None:
    worker = ResultsWorker([FakeRunner([], fails=True)], clock)
    assert worker.step() == ERROR_BACKOFF_S
    assert worker.errors == 1


def test_stopping_releases_resources(clock: ManualClock) -> None:
    released: list[str] = []
    worker = ResultsWorker([FakeRunner([])], clock, poll_interval=0.01,
                           on_stop=[lambda: released.append("sender")])
    thread = worker.start_thread()
    worker.stop()
    thread.join(timeout=5)
    assert not thread.is_alive() and released == ["sender"]
