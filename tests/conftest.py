"""Shared test set-up: the checkout's data/ folder is the cache (as `make` sets it), and the real
validation data of ../shared, when CI passes its paths in environment variables."""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("VAEMI_DATA", str(ROOT / "data"))


def _executed_by_the_build(nb: Path) -> bool:
    """Whether this checkout's book build (``make book``, which stops on any error in a cell) ran this
    chapter's current code after the chapter and the package last changed, with the settings nbval
    would use now (quick profile, seed 0, no checks log: not a seed sweep)."""
    import nbformat

    executed = ROOT / "_build" / "jupyter_execute" / "notebooks" / nb.name
    env = os.environ
    if (env.get("VAEMI_NBVAL") == "always" or env.get("VAEMI_PROFILE", "quick") != "quick"
            or env.get("VAEMI_SEED", "0") != "0" or env.get("VAEMI_CHECKS_LOG") or not executed.is_file()):
        return False
    sources = [nb, *(ROOT / "vaemi_nb").rglob("*.py")]
    if executed.stat().st_mtime < max(p.stat().st_mtime for p in sources):
        return False
    source, ran = (nbformat.read(p, as_version=4).cells for p in (nb, executed))  # each file read once
    code = [[c.source for c in cells if c.cell_type == "code"] for cells in (source, ran)]
    errors = [o for c in ran for o in c.get("outputs", []) if o.get("output_type") == "error"]
    return code[0] == code[1] and not errors


def pytest_collection_modifyitems(config, items):
    """Chapters the book build just executed are not executed a second time by nbval (they passed:
    the build raises on any error); VAEMI_NBVAL=always runs them anyway."""
    import pytest

    seen: dict[Path, bool] = {}
    for item in items:
        path = Path(str(item.fspath))
        if path.suffix != ".ipynb":
            continue
        if path not in seen:
            seen[path] = _executed_by_the_build(path)
        if seen[path]:
            item.add_marker(pytest.mark.skip(reason=f"{path.name}: executed without error by this checkout's book "
                                                    "build, same code and settings (VAEMI_NBVAL=always runs it again)"))
