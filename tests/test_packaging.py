"""The wheel holds the science: every module it imports is a declared dependency (or stdlib)."""
import ast
import importlib.metadata as md
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "vaemi_nb"


def _declared() -> set[str]:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return {re.split(r"[\s<>=!~;\[]", d, maxsplit=1)[0].lower().replace("_", "-") for d in deps}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_every_imported_module_is_declared():
    declared = _declared()
    dists = md.packages_distributions()
    missing = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for name in _imports(path):
            if name in sys.stdlib_module_names or name in ("vaemi_nb", "__future__"):
                continue
            providers = {d.lower().replace("_", "-") for d in dists.get(name, [name])}
            if not providers & declared:
                missing.setdefault(name, []).append(str(path.relative_to(ROOT)))
    assert not missing, (f"imported but not in pyproject's [project] dependencies: {missing}; declare them "
                         "(in Colab only declared dependencies are installed) or move the module to tools/")


def test_book_tooling_is_not_in_the_wheel():
    for name in ("colab", "student", "browser_check", "seed_sweep"):
        assert not (PACKAGE / f"{name}.py").exists(), f"vaemi_nb/{name}.py is book tooling: it belongs in tools/"
        assert (ROOT / "tools" / f"{name}.py").is_file()
