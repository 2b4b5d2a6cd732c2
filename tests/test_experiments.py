"""The one-off studies in experiments/ still load where they now live: every import resolves
(benchlib from metrics/ included) and each has the `main` its command line runs. What they
compute is tested where a test exists (test_compare_runs.py, test_encoder_experiments.py,
test_pseudose.py)."""
import runpy

import pytest

from conftest import ROOT

SCRIPTS = sorted((ROOT / "experiments").glob("*.py"))


def test_experiments_are_found():
    assert len(SCRIPTS) >= 10


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_script_loads(script):
    names = runpy.run_path(str(script), run_name="experiment")   # not "__main__": nothing runs
    assert callable(names.get("main")), script.name
