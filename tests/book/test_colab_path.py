"""The Colab path: only the notebook and the pip-installed package, no checkout on disk.

As the install cell does, this installs ``vaemi_nb @ git+file://<clean clone>@<branch>`` into a
fresh virtual environment with only its declared dependencies (no test or book extras; nbclient
and ipykernel stand in for Colab's Jupyter), then executes chapters from an empty working
directory with a fresh home directory, interactively (VAEMI_STATIC unset), and checks that
nothing raised and that what needs the checkout says so in plain words. About 3-4 minutes.

The MNIST models the book build trained (the checkout's checkpoint cache, when there is one) are
copied into that home's cache, as a Colab user's runtime keeps them between its chapters: the
chapters then load instead of training again (3 seeds, several minutes on 2 cores); without a
build they train.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = ["01_measuring_mi", "03_mnist", "12_results"]

_RUNNER = """
import sys, nbformat, nbclient
src, out = sys.argv[1], sys.argv[2]
nb = nbformat.read(src, as_version=4)
client = nbclient.NotebookClient(nb, timeout=1200, kernel_name="python3", allow_errors=False)
try:
    client.execute()
finally:
    nbformat.write(nb, out)
"""


def _git(*args, cwd=ROOT) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="module")
def colab(tmp_path_factory):
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("the Colab-path check installs from a git clone: this checkout is not a git repository")
    if _git("status", "--porcelain", "--untracked-files=no", "--", "vaemi_nb", "pyproject.toml"):
        print("note: vaemi_nb/ or pyproject.toml has uncommitted changes; the check installs the last commit")
    base = tmp_path_factory.mktemp("colab")
    clone = base / "clone"
    _git("clone", "--quiet", str(ROOT), str(clone))
    branch = _git("rev-parse", "--abbrev-ref", "HEAD", cwd=clone)
    ref = branch if branch != "HEAD" else _git("rev-parse", "HEAD", cwd=clone)
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    pip = [str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run(pip + ["--upgrade", "pip"], check=True, capture_output=True)
    spec = f"vaemi_nb @ git+file://{clone}@{ref}"
    done = subprocess.run(pip + [spec, "nbclient", "ipykernel"], capture_output=True, text=True)
    assert done.returncode == 0, f"pip install {spec!r} failed:\n{done.stderr[-3000:]}"
    home, work = base / "home", base / "work"
    home.mkdir()
    work.mkdir()
    built = Path(os.environ.get("VAEMI_DATA", ROOT / "data")) / "checkpoints"
    cache = home / ".cache" / "vaemi_nb" / "checkpoints"  # the package's default cache there
    cache.mkdir(parents=True)
    for path in sorted(built.glob("mnist-quick-*")) if built.is_dir() else []:
        shutil.copy(path, cache / path.name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VAEMI_", "PYTHON", "JUPYTER"))}
    env.update(HOME=str(home), PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", MPLBACKEND="agg")
    runner = base / "run_notebook.py"
    runner.write_text(_RUNNER)
    return {"py": py, "work": work, "env": env, "base": base, "runner": runner}


def test_the_package_is_not_the_checkout(colab):
    code = "import vaemi_nb, pathlib; print(pathlib.Path(vaemi_nb.__file__).resolve())"
    where = subprocess.run([str(colab["py"]), "-c", code], cwd=colab["work"], env=colab["env"],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert "site-packages" in where and not where.startswith(str(ROOT)), where


def test_every_module_imports_with_declared_dependencies_only(colab):
    code = ("import importlib, pkgutil, vaemi_nb\n"
            "for m in pkgutil.walk_packages(vaemi_nb.__path__, 'vaemi_nb.'):\n"
            "    importlib.import_module(m.name)\n"
            "print('ok')")
    done = subprocess.run([str(colab["py"]), "-c", code], cwd=colab["work"], env=colab["env"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]


def _outputs(nb, kind):
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == kind:
                yield out


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_runs_from_an_empty_folder(colab, chapter):
    src = colab["work"] / f"{chapter}.ipynb"
    shutil.copy(ROOT / "notebooks" / f"{chapter}.ipynb", src)  # in Colab: the notebook alone
    out = colab["base"] / f"{chapter}.out.ipynb"
    done = subprocess.run([str(colab["py"]), str(colab["runner"]), str(src), str(out)], cwd=colab["work"],
                          env=colab["env"], capture_output=True, text=True)
    nb = nbformat.read(out, as_version=4) if out.is_file() else None
    errors = [f"{e.ename}: {e.evalue}" for e in _outputs(nb, "error")] if nb else []
    assert done.returncode == 0 and not errors, (f"{chapter} failed outside a checkout: {errors}\n"
                                                 f"{done.stderr[-3000:]}")
    stderr = "".join(o.text for o in _outputs(nb, "stream") if o.name == "stderr")
    assert "Traceback" not in stderr, f"{chapter} printed a traceback:\n{stderr[-2000:]}"
    text = "".join(o.get("text", "") for o in _outputs(nb, "stream"))
    if chapter == "12_results":
        assert "not available here" in text, "the results page must say why the records are not available"
    assert not [p for p in colab["work"].iterdir() if p.suffix != ".ipynb"], \
        f"{chapter} wrote into the working folder: {sorted(p.name for p in colab['work'].iterdir())}"
