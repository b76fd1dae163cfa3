"""The test deployment of `bench/cluster.py`: a flow run that takes a while and leaves a mark.

Each run waits `seconds` (so a `kill -9` of its worker finds it running), then records its `key`
under `marks_dir`: the first completion of a key creates `done/<key>`; any later one (the same
key run twice) adds `dup/<key>-<run id>`. The bench counts both.
"""

import os
import time
from pathlib import Path

from prefect import flow
from prefect.runtime import flow_run


@flow(name="cluster-probe", persist_result=False)
def cluster_probe(key: str, marks_dir: str, seconds: float = 5.0) -> str:
    """`done` or `duplicate`, as this run's key was first or again completed."""
    time.sleep(seconds)
    marks = Path(marks_dir)
    (marks / "done").mkdir(parents=True, exist_ok=True)
    (marks / "dup").mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(marks / "done" / key, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        return "done"
    except FileExistsError:
        (marks / "dup" / f"{key}-{flow_run.id}").touch()
        return "duplicate"
