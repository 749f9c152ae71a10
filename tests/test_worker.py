"""pipeline.worker: long-lived resources and the pool worker's exit."""

from __future__ import annotations

import gc
import subprocess
import sys

from pipeline import config
from pipeline.worker import long_lived


def test_long_lived_pauses_the_collector_and_freezes_what_was_built():
    before = gc.get_freeze_count()
    with long_lived():
        assert not gc.isenabled()
        built = [[i] for i in range(5000)]  # container objects, tracked by the collector
    assert gc.isenabled()
    assert gc.get_freeze_count() >= before + len(built)

    gc.disable()  # a caller that had the collector off keeps it off
    try:
        with long_lived():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_worker_leaves_without_teardown_but_flushes_its_log():
    code = (
        "import atexit, logging, sys\n"
        "from pipeline.worker import init_worker\n"
        "logging.basicConfig(stream=sys.stderr, format='%(message)s')\n"
        # exit handlers run last-registered first: this one stands for the teardown after the exit
        "atexit.register(lambda: print('teardown ran', file=sys.stderr))\n"
        "init_worker()\n"
        "atexit.register(lambda: print('handler ran', file=sys.stderr))\n"
        "logging.getLogger('w').warning('last words')\n"
        "sys.stdout.write('unflushed output')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=config.REPO_ROOT, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "last words" in proc.stderr and "handler ran" in proc.stderr
    assert "teardown ran" not in proc.stderr
    assert proc.stdout == "unflushed output"
