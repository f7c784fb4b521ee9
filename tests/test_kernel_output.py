"""A sandboxed kernel's own output never reaches a learner's terminal
(course/grading/bwrap.py KERNEL_OUTPUT_LOGGER; course/grading/assignments.py)."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

from course.grading.assignments import CHECK_LOGS, kernel_output_kept
from course.grading.bwrap import KERNEL_OUTPUT_LOGGER

from .conftest import ROOT

RELAY_A_TRACEBACK = """
import os
from course.grading.bwrap import OutputRelay
relay = OutputRelay("self-study/00-orientation")
os.write(relay.fd, b"Traceback (most recent call last):\\n  boom\\n")
relay.close()
relay._thread.join(10)
print("relayed")
"""


def test_with_no_logging_configured_kernel_output_is_not_printed() -> None:
    """As in `course check`: nothing configures logging, and Python's last-resort handler
    would print every relayed line on the learner's terminal."""
    run = subprocess.run([sys.executable, "-c", RELAY_A_TRACEBACK], capture_output=True,
                         text=True, timeout=60, cwd=ROOT, check=False)
    assert run.stdout == "relayed\n", run.stderr
    assert run.stderr == ""


def test_configured_logging_still_gets_kernel_output(caplog) -> None:
    """A cohort's grading log (the workers configure logging) keeps receiving it."""
    caplog.set_level("WARNING", logger=KERNEL_OUTPUT_LOGGER)
    logging.getLogger(KERNEL_OUTPUT_LOGGER).warning("kernel output (ana/01): boom")
    assert "kernel output (ana/01): boom" in caplog.text


def test_a_check_keeps_kernel_output_for_the_maintainer(tmp_path: Path) -> None:
    logger = logging.getLogger(KERNEL_OUTPUT_LOGGER)
    handlers = list(logger.handlers)
    with kernel_output_kept(tmp_path, "01-principles"):
        logger.warning("kernel output (self-study/01-principles): Traceback")
    assert logger.handlers == handlers
    logs = list((tmp_path / CHECK_LOGS).glob("check-01-principles-*.kernel.log"))
    assert len(logs) == 1
    assert "kernel output (self-study/01-principles): Traceback" in logs[0].read_text()


def test_a_check_whose_kernels_say_nothing_leaves_no_log(tmp_path: Path) -> None:
    with kernel_output_kept(tmp_path, "01-principles"):
        pass
    assert not list((tmp_path / CHECK_LOGS).glob("*.kernel.log"))


KEEP_STRAY_RECORDS = """
import logging, sys
from pathlib import Path
from course.grading.assignments import keep_stray_log_records
keep_stray_log_records(Path(sys.argv[1]))
keep_stray_log_records(Path(sys.argv[1]))
logging.getLogger("asyncio").error("Task exception was never retrieved: DeadKernelError")
print("logged")
"""


def test_a_check_process_keeps_stray_log_records_off_the_terminal(tmp_path: Path) -> None:
    """What no handler takes (asyncio's leftover task error after a stopped check) goes to
    the maintainer's log, as the process ends too."""
    run = subprocess.run([sys.executable, "-c", KEEP_STRAY_RECORDS, str(tmp_path)],
                         capture_output=True, text=True, timeout=60, cwd=ROOT, check=False)
    assert run.stdout == "logged\n", run.stderr
    assert run.stderr == ""
    log = (tmp_path / CHECK_LOGS / "course-check.log").read_text(encoding="utf-8")
    assert log.count("Task exception was never retrieved") == 1
