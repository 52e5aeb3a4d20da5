"""nbval does not execute a chapter a second time when this checkout's book build just ran the same
code without error (tests/conftest.py); anything else runs it."""
import os
import time

import nbformat
import pytest

import conftest


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    for name in ("VAEMI_NBVAL", "VAEMI_PROFILE", "VAEMI_SEED", "VAEMI_CHECKS_LOG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(conftest, "ROOT", tmp_path)
    (tmp_path / "vaemi_nb").mkdir()
    (tmp_path / "vaemi_nb" / "mi.py").write_text("x = 1\n")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1)")])
    (tmp_path / "notebooks").mkdir()
    source = tmp_path / "notebooks" / "01_x.ipynb"
    nbformat.write(nb, source)
    time.sleep(0.01)
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", text="1\n")]
    executed = tmp_path / "_build" / "jupyter_execute" / "notebooks" / "01_x.ipynb"
    executed.parent.mkdir(parents=True)
    nbformat.write(nb, executed)
    return source, executed


def test_a_fresh_build_of_the_same_code_is_not_run_again(checkout):
    assert conftest._executed_by_the_build(checkout[0])


@pytest.mark.parametrize("env", [{"VAEMI_SEED": "1"}, {"VAEMI_PROFILE": "full"}, {"VAEMI_CHECKS_LOG": "x.jsonl"},
                                 {"VAEMI_NBVAL": "always"}])
def test_other_settings_run_it(checkout, monkeypatch, env):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert not conftest._executed_by_the_build(checkout[0])


def test_a_change_or_an_error_runs_it(checkout):
    source, executed = checkout
    later = executed.stat().st_mtime + 10
    os.utime(conftest.ROOT / "vaemi_nb" / "mi.py", (later, later))  # the package changed after the build
    assert not conftest._executed_by_the_build(source)
    os.utime(conftest.ROOT / "vaemi_nb" / "mi.py", (0, 0))
    nb = nbformat.read(executed, as_version=4)
    nb.cells[0].outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue="", traceback=[])]
    nbformat.write(nb, executed)
    assert not conftest._executed_by_the_build(source)
    nb.cells[0].outputs, nb.cells[0].source = [], "print(2)"  # other code than the chapter's
    nbformat.write(nb, executed)
    assert not conftest._executed_by_the_build(source)
