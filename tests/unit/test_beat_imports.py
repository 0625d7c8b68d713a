"""Beat only sends periodic tasks by name: it must not load the database layer or any task family, which
would cost every ``make run`` and every beat container ~20-40 MB of memory for nothing."""

import subprocess
import sys


def test_beat_imports_neither_the_database_layer_nor_a_task_family():
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, workers.beat; print(' '.join(sorted(sys.modules)))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert "sqlalchemy" not in loaded
    assert not [
        name
        for name in loaded
        if name.startswith(("web", "common.db", "common.models", "workers.")) and name != "workers.beat"
    ]
