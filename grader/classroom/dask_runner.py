"""Grade chunks of a batch on an existing Dask distributed cluster.

Only ``grade batch --scheduler ADDRESS`` imports this module, and with it Dask.
Each task carries its chunk's submissions (their sources, read here; workers
need no access to this machine's files) and grades them on the worker in a
process forked for that task, with its own sandbox and pytest session: the
same isolation as on one machine. Workers need this package installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from grader.classroom.batch import Partial, RunnerError
from grader.grading import Settings
from grader.registry import Exercise
from grader.results import SubmissionResult
from grader.submission import Submission


def grade_chunk_task(
    chunk: list[Submission], exercises: tuple[Exercise, ...], settings: Settings
) -> list[SubmissionResult]:
    """What one Dask task runs on a worker."""
    from grader.classroom.chunk_process import run_in_child

    return run_in_child(chunk, exercises, settings)


@dataclass
class DaskRunner:
    """``ChunkRunner`` on a Dask cluster."""

    address: str
    connect_timeout: float = 10.0
    name: str = "dask"

    def run(
        self,
        chunks: list[list[Submission]],
        exercises: tuple[Exercise, ...],
        settings: Settings,
        on_partial: Partial | None = None,  # Dask reports whole chunks only
    ) -> Iterator[tuple[int, list[SubmissionResult] | Exception]]:
        try:
            from distributed import Client, as_completed
        except ImportError as exc:
            raise RunnerError(
                f"--scheduler needs Dask ({exc.name} is missing): "
                "pip install 'autograd-grader[dask]'"
            ) from None
        from distributed.comm import parse_address
        from distributed.comm.registry import get_backend

        try:
            get_backend(parse_address(self.address)[0])
        except ValueError as exc:
            raise RunnerError(
                f"--scheduler {self.address}: not a Dask scheduler address ({exc})"
            ) from None
        try:
            client = Client(self.address, timeout=self.connect_timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise RunnerError(f"cannot reach the Dask scheduler at {self.address}: {exc}") from None
        try:
            futures = [
                client.submit(grade_chunk_task, chunk, exercises, settings, pure=False)
                for chunk in chunks
            ]
            index_of = {future.key: index for index, future in enumerate(futures)}
            for future in as_completed(futures, loop=client.loop):
                yield index_of[future.key], _outcome(future)
        finally:
            client.close()


def _outcome(future: object) -> list[SubmissionResult] | Exception:
    try:
        return list(future.result())  # type: ignore[attr-defined]
    except Exception as exc:  # the task failed or its worker died: this chunk only
        return exc
