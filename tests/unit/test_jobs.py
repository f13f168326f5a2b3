import asyncio

import pytest

from api.jobs import PeriodicJob


async def test_a_job_runs_every_period_until_stopped() -> None:
    runs: list[int] = []

    async def work() -> int:
        runs.append(1)
        return len(runs)

    job = PeriodicJob("count", 0.01, work)
    job.start()
    for _ in range(500):  # bounded wait for three periods
        if len(runs) >= 3:
            break
        await asyncio.sleep(0.01)
    await job.stop()
    done = len(runs)
    assert done >= 3
    await asyncio.sleep(0.05)
    assert len(runs) == done  # nothing after stop


async def test_a_failing_job_is_logged_and_retried(caplog: pytest.LogCaptureFixture) -> None:
    runs: list[int] = []

    async def flaky() -> None:
        runs.append(1)
        if len(runs) == 1:
            raise RuntimeError("database away")

    job = PeriodicJob("flaky", 0.01, flaky)
    job.start()
    for _ in range(500):
        if len(runs) >= 2:
            break
        await asyncio.sleep(0.01)
    await job.stop()
    assert len(runs) >= 2
    assert any(r.message.startswith("job failed") for r in caplog.records)


async def until_first_run(job: PeriodicJob, runs: list[int]) -> None:
    """Start ``job``, wait for its first run (5 s at most) and a little more, then stop it."""
    job.start()
    for _ in range(500):
        if runs:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    await job.stop()


async def test_the_first_run_comes_soon_after_start_up_not_after_a_whole_period() -> None:
    # An API restarted more often than the period (every deployment) must still run its jobs.
    runs: list[int] = []

    async def work() -> None:
        runs.append(1)

    job = PeriodicJob("releases", 6 * 3600, work, first_after_s=0.01)
    await until_first_run(job, runs)
    assert runs == [1]  # then nothing until the period has passed


async def test_a_failed_first_run_waits_a_period_before_the_next() -> None:
    runs: list[int] = []

    async def failing() -> None:
        runs.append(1)
        raise RuntimeError("database away")

    job = PeriodicJob("carpool", 24 * 3600, failing, first_after_s=0.0)
    await until_first_run(job, runs)
    assert runs == [1]
