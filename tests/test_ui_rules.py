"""The UI's house rules, read from the source: no widget keeps the handle or the image, nobody
picks results out of a shared engine signal, and every job the UI submits is a core function."""
import ast
import re
from pathlib import Path

import pytest

UI = Path(__file__).resolve().parents[1] / "workbench" / "ui"
SOURCES = sorted(UI.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(UI)))
def test_no_widget_keeps_its_own_handle_or_image(path):
    kept = re.findall(r"self\.(_?(?:handle|image))\s*(?::[^=\n]*)?=(?!=)", path.read_text())
    assert not kept, f"{path.name} keeps self.{kept[0]}: read it from the workspace instead"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(UI)))
def test_no_engine_level_result_signals(path):
    text = path.read_text()
    assert not re.search(r"engine\.(done|partial|failed|progress|started|cancelled)\.connect", text), \
        f"{path.name} listens to an engine-wide signal: connect to the job's ticket instead"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(UI)))
def test_ui_submits_no_lambda_or_local_function(path):
    tree = ast.parse(path.read_text())
    local_functions = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    for call in ast.walk(tree):
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "submit":
            job = call.args[1] if len(call.args) > 1 else None
            assert not isinstance(job, ast.Lambda), f"{path.name}:{call.lineno} submits a lambda"
            assert not (isinstance(job, ast.Name) and job.id in local_functions), \
                f"{path.name}:{call.lineno} submits {job.id}, a function written in ui/"


def test_engine_refuses_a_job_function_written_in_the_ui():
    from workbench.engine.engine import check_job_function

    def job(jc):
        return 1
    job.__module__ = "workbench.ui.some_panel"
    with pytest.raises(TypeError, match="defined in the UI"):
        check_job_function(job)
    check_job_function(ast.parse)   # anything else is fine
