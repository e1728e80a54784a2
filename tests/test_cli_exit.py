"""`kg_ml.cli.end_process`: a stage process exits without the interpreter's teardown, yet loses
nothing a normal exit would write."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import atexit, logging, sys
from kg_ml.cli import end_process

atexit.register(lambda: open(sys.argv[1], "w").write("atexit ran"))
logging.basicConfig(filename=sys.argv[2], level=logging.INFO)
logging.getLogger("stage").info("logged before the exit")
print("no newline, still buffered", end="")
print("to stderr", end="", file=sys.stderr)

class Teardown:
    def __del__(self):  # runs only if the interpreter tears the module down
        print(" TORN DOWN", end="")

keep = Teardown()
end_process(int(sys.argv[3]))
print("never reached")
"""


@pytest.mark.parametrize("code", [0, 3])
def test_end_process_runs_atexit_flushes_and_skips_teardown(tmp_path: Path, code: int) -> None:
    marker, log = tmp_path / "atexit.txt", tmp_path / "stage.log"
    res = subprocess.run([sys.executable, "-c", SCRIPT, str(marker), str(log), str(code)],
                         capture_output=True, text=True)
    assert res.returncode == code, res.stderr
    assert res.stdout == "no newline, still buffered"  # flushed, no teardown, nothing after the exit
    assert res.stderr == "to stderr"
    assert marker.read_text() == "atexit ran"
    assert "logged before the exit" in log.read_text()


def test_a_stage_ending_early_still_writes_its_import_log(tmp_path: Path, repo_root: Path) -> None:
    """`kg_ml.import_log` writes at exit: the e2e deps check relies on it under `end_process`."""
    env_code = "import os, sys; os.environ['KG_ML_IMPORT_LOG'] = sys.argv[1]\n" \
               "import kg_ml.cli; kg_ml.cli.end_process(0)"
    res = subprocess.run([sys.executable, "-c", env_code, str(tmp_path / "log")], cwd=repo_root,
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    [record] = [json.loads(p.read_text()) for p in (tmp_path / "log").glob("*.json")]
    assert "kg_ml/cli.py" in record["modules"]
