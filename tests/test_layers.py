"""The package's layers, read from the source (every import, function-level ones too): each subpackage imports
only from the layers below it, Numba lives only in ``kernels/``, which imports nothing else from fastemb, and
no module imports another that imports it back."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "fastemb"
# Lowest first: a module may import from its own layer and from those before it.
# The public modules at the top level (api; config, errors, vectors: names users import) sit above cluster/;
# fasttext, the drop-in for fastText's module, is built on api.
LAYERS = ["kernels", "base", "text", "formats", "models", ("training", "evaluation"), "cluster",
          ("api", "config", "errors", "vectors"), "fasttext", "cli"]
RANK = {name: rank for rank, layer in enumerate(LAYERS) for name in ((layer,) if isinstance(layer, str) else layer)}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The fastemb modules (or packages) ``path`` imports, as dotted names."""
    name = _module_name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    paths = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in paths.items():
        targets = set()
        for target in _imports(path):
            while target and target not in paths:
                target = target.rpartition(".")[0]
            if target and target not in (name, "fastemb"):
                targets.add(target)
        graph[name] = targets
    return graph


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_each_layer_imports_only_from_the_layers_below_it():
    graph = _graph()
    assert all(_layer(m) in RANK for m in graph if _layer(m) is not None), \
        f"modules outside the layers: {sorted(m for m in graph if _layer(m) not in RANK and _layer(m))}"
    upward = sorted(f"{m} -> {t}" for m, targets in graph.items() for t in targets
                    if _layer(m) and _layer(t) and RANK[_layer(t)] > RANK[_layer(m)]
                    or _layer(m) and _layer(t) and RANK[_layer(t)] == RANK[_layer(m)] and _layer(t) != _layer(m))
    assert not upward, f"imports from a layer above (or beside): {upward}"


def test_kernels_import_nothing_else_from_fastemb_and_hold_all_of_numba():
    graph = _graph()
    leaks = sorted(f"{m} -> {t}" for m, targets in graph.items() if _layer(m) == "kernels"
                   for t in targets if _layer(t) != "kernels")
    assert not leaks, leaks
    numba_outside = sorted(m for m, path in ((_module_name(p), p) for p in PACKAGE.rglob("*.py"))
                           if _layer(m) != "kernels" and any(i.split(".")[0] == "numba" for i in _imports(path))
                           and "jit" in path.read_text(encoding="utf-8"))
    assert not numba_outside, f"Numba kernels outside kernels/: {numba_outside}"


def test_no_import_circles():
    graph = _graph()
    # a package's __init__ may import its own modules; that is not a circle of the design
    graph = {m: {t for t in ts if not (PACKAGE.joinpath(*m.split(".")[1:], "__init__.py").exists()
                                       and t.startswith(m + "."))} for m, ts in graph.items()}
    circles, state = [], {}

    def visit(module, trail):
        state[module] = "open"
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                circles.append(trail[trail.index(target):] + [target])
            elif target not in state:
                visit(target, trail + [target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not circles, f"import circles: {circles[:3]}"


def test_the_layer_check_sees_an_upward_import(tmp_path):
    # the checks above read real imports: a kernel importing base/ is found
    kernel = tmp_path / "fastemb" / "kernels" / "k.py"
    kernel.parent.mkdir(parents=True)
    kernel.write_text("from ..base.errors import FastembError\n\ndef f():\n    from ..models import tables\n")
    global PACKAGE
    saved, PACKAGE = PACKAGE, tmp_path / "fastemb"
    try:
        assert _imports(kernel) >= {"fastemb.base.errors", "fastemb.models.tables"}
    finally:
        PACKAGE = saved
