"""The GitHub Pages workflow (.github/workflows/book.yml): actionlint passes, and it builds the
book with the README's command and deploys it. Nothing here runs the workflow."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
BOOK = WORKFLOWS / "book.yml"


def _actionlint() -> str | None:
    """actionlint on PATH, else the one the test extras installed next to this interpreter."""
    found = shutil.which("actionlint")
    if found:
        return found
    for name in ("actionlint", "actionlint.exe"):
        candidate = Path(sys.executable).parent / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def _lint(*paths: Path) -> subprocess.CompletedProcess:
    exe = _actionlint()
    if exe is None:
        pytest.skip("actionlint is not installed: neither on PATH nor next to this Python "
                    "(the test extras install it: pip install -e '.[test]')")
    # -shellcheck= / -pyflakes=: lint the workflow itself, not whichever shellcheck the machine has
    return subprocess.run([exe, "-no-color", "-shellcheck=", "-pyflakes=", *map(str, paths)],
                          check=False, capture_output=True, text=True, timeout=120)


def _workflow() -> dict:
    return yaml.safe_load(BOOK.read_text())


def _steps(wf: dict) -> list[dict]:
    return [step for job in wf["jobs"].values() for step in job.get("steps", [])]


def _uses(wf: dict, action: str) -> list[dict]:
    return [s for s in _steps(wf) if str(s.get("uses", "")).split("@")[0] == action]


def test_workflows_pass_actionlint():
    files = sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])
    assert BOOK in files
    result = _lint(*files)
    assert result.returncode == 0, f"actionlint found problems:\n{result.stdout}{result.stderr}"


def test_actionlint_fails_on_a_broken_workflow(tmp_path):
    """The check above can fail: a copy with an unknown job key and a bad expression is rejected."""
    broken = BOOK.read_text().replace("runs-on: ubuntu-24.04", "runs_on: ubuntu-24.04", 1)
    broken = broken.replace("${{ steps.deployment.outputs.page_url }}", "${{ steps.deployment.outputs.page_url", 1)
    assert broken != BOOK.read_text()
    path = tmp_path / ".github" / "workflows" / "book.yml"
    path.parent.mkdir(parents=True)
    path.write_text(broken)
    result = _lint(path)
    assert result.returncode != 0, result.stdout
    assert "runs_on" in result.stdout


def test_builds_on_pushes_to_main():
    wf = _workflow()
    on = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` key as True
    assert "main" in on["push"]["branches"]
    assert "workflow_dispatch" in on
    assert wf["env"]["VAEMI_PROFILE"] == "quick"


def test_builds_with_the_readme_command():
    """`make book`, the README's command, not a copy of the jupyter-book invocation."""
    runs = [s.get("run", "") for s in _steps(_workflow())]
    assert any(r.strip() == "make book" for r in runs), runs
    assert not any("jupyter-book" in r for r in runs), "call `make book`, not jupyter-book directly"
    assert "make book" in (ROOT / "README.md").read_text()


def test_installs_cpu_torch_before_make_book():
    runs = [s.get("run", "") for s in _steps(_workflow())]
    torch_at = next(i for i, r in enumerate(runs) if "download.pytorch.org/whl/cpu" in r)
    assert torch_at < runs.index("make book")
    assert ".venv/bin/python -m pip install" in runs[torch_at]


def test_caches_the_venv_and_the_checkpoints():
    caches = {s["with"]["path"]: s["with"] for s in _uses(_workflow(), "actions/cache")}
    assert set(caches) >= {".venv", "data/checkpoints"}, caches
    assert "hashFiles('pyproject.toml')" in caches[".venv"]["key"]
    assert "python-version" in caches[".venv"]["key"] and "runner.os" in caches[".venv"]["key"]
    assert "notebooks/" in caches["data/checkpoints"]["key"] and "vaemi_nb/" in caches["data/checkpoints"]["key"]
    assert all(c.get("restore-keys") for c in caches.values())
    # the folder vaemi_nb.train.fit_cached writes to
    assert '"checkpoints"' in (ROOT / "vaemi_nb" / "train.py").read_text()


def test_uploads_the_html_and_deploys_to_pages():
    wf = _workflow()
    (upload,) = _uses(wf, "actions/upload-pages-artifact")
    assert upload["with"]["path"] == "_build/html"
    assert _uses(wf, "actions/configure-pages")
    deploy_jobs = [job for job in wf["jobs"].values()
                   if any(str(s.get("uses", "")).startswith("actions/deploy-pages@") for s in job.get("steps", []))]
    assert len(deploy_jobs) == 1
    (job,) = deploy_jobs
    assert job["environment"]["name"] == "github-pages"
    assert "page_url" in job["environment"]["url"]
    assert wf["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert wf["concurrency"]["group"]


def _pages_url() -> str:
    """GitHub Pages' address for _config.yml's repository.url: https://<owner>.github.io/<repo>/."""
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    owner, repo = url.removesuffix(".git").rstrip("/").split("/")[-2:]
    host = f"{owner.lower()}.github.io"
    return f"https://{host}/" if repo.lower() == host else f"https://{host}/{repo}/"


def test_readme_says_where_the_book_is_published():
    assert _pages_url() == "https://vaemi-book.github.io/vaemi-book/"  # for today's _config.yml
    readme = (ROOT / "README.md").read_text()
    assert _pages_url() in readme, f"README.md should link the published book, {_pages_url()}"
    assert ".github/workflows/book.yml" in readme
