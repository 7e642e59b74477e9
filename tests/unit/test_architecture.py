"""The codebase's shape, checked: one-way imports, no forks of framework internals, stock
session and auth machinery, modules a reader can hold in their head, comments that say why.

The import graph is read from the source (``ast``), imports inside functions and
``TYPE_CHECKING`` blocks included: a function-level import is still a dependency, only a
later one.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
APPS = ("cxcrm", "customers", "touchpoints", "feedback")

# Layers, lowest first: a module may import its own layer and the ones below, never above.
# The feedback app's models are one layer under its parts: relations of one app point both
# ways (an invitation names the ticket it follows up), and the models hold no behaviour that
# would need the parts above them.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("cxcrm",),
    ("customers",),
    ("touchpoints",),
    (
        "feedback.surveys.scoring",
        "feedback.surveys.models",
        "feedback.tickets.models",
        "feedback.inbound.models",
    ),
    ("feedback.surveys",),
    ("feedback.tickets",),
    ("feedback.inbound",),
    ("feedback.insights",),
    ("feedback.reporting",),
)
# Composition roots: they wire the layers together (Django's URLconf, the app registry's
# models/admin modules and AppConfig, settings, Celery's app, the demo seeder and the app's
# commands). Nothing layered may import them. Packages are roots with everything inside.
ROOT_MODULES = (
    "cxcrm",
    "cxcrm.urls",
    "cxcrm.settings",
    "cxcrm.celery",
    "cxcrm.wsgi",
    "cxcrm.asgi",
    "feedback",
    "feedback.apps",
    "feedback.models",
    "feedback.urls",
)
ROOT_PACKAGES = ("feedback.admin", "feedback.demo", "feedback.management")
FRAMEWORKS = (
    "django",
    "rest_framework",
    "celery",
    "kombu",
    "allauth",
    "anymail",
    "psycopg",
    "smtplib",
    "email",
    "drf_spectacular",
    "django_filters",
)
# Underscored names that the frameworks document as public API.
DOCUMENTED = {
    "_meta",
    "_state",
    "_default_manager",
    "_base_manager",
    "_fields",
    "_asdict",
    "_replace",
}
MAX_LINES = 800
MAX_TIMING_LINES = 10


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@functools.cache
def product_modules() -> dict[str, Path]:
    found = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts:
                found[_module_name(path)] = path
    return found


@functools.cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imported_names(name: str, path: Path) -> Iterator[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            for alias in node.names:
                yield f"{base}.{alias.name}"


def _owner(name: str) -> str | None:
    """The product module that an imported dotted name lives in (None: not ours)."""
    modules = product_modules()
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


@functools.cache
def import_graph() -> dict[str, frozenset[str]]:
    graph = {}
    for name, path in product_modules().items():
        targets = {_owner(imported) for imported in _imported_names(name, path)}
        graph[name] = frozenset(t for t in targets if t and t != name)
    return graph


def _cycles(graph: dict[str, frozenset[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _root(name: str) -> bool:
    return name in ROOT_MODULES or any(_within(name, p) for p in ROOT_PACKAGES)


def _layer(name: str) -> int | None:
    """The rank of the layer that names the module most precisely."""
    best: tuple[int, int] | None = None
    for rank, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if _within(name, prefix) and (best is None or len(prefix) > best[1]):
                best = (rank, len(prefix))
    return None if best is None else best[0]


def test_no_import_cycles_counting_imports_inside_functions() -> None:
    assert _cycles(import_graph()) == []


def test_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a"}), "d": frozenset()}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_every_product_module_is_in_a_layer_or_is_a_composition_root() -> None:
    unplaced = [m for m in product_modules() if not _root(m) and _layer(m) is None]
    assert unplaced == []


def test_imports_run_one_way_down_the_layers() -> None:
    upward = []
    for module, targets in import_graph().items():
        for target in targets:
            if _root(target) and not _root(module):
                upward.append(f"{module} -> {target} (a composition root)")
                continue
            if _root(module):
                continue
            mine, theirs = _layer(module), _layer(target)
            if mine is not None and theirs is not None and theirs > mine:
                upward.append(f"{module} -> {target}")
    assert sorted(upward) == []


def test_the_platform_imports_no_domain_app() -> None:
    allowed = {"cxcrm.urls", "cxcrm.settings", "cxcrm.celery", "cxcrm.wsgi", "cxcrm.asgi"}
    offenders = {
        module: sorted(t for t in targets if not _within(t, "cxcrm"))
        for module, targets in import_graph().items()
        if _within(module, "cxcrm") and module not in allowed
    }
    assert {m: t for m, t in offenders.items() if t} == {}


def _our_private_names() -> set[str]:
    """Every underscored name our own code defines (functions, classes, attributes, args)."""
    names: set[str] = set()
    for path in product_modules().values():
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.alias):
                names.add(node.asname or node.name.rpartition(".")[2])
    return {n for n in names if n.startswith("_")}


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def test_no_private_framework_name_in_product_code() -> None:
    ours = _our_private_names()
    found = []
    for module, path in product_modules().items():
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(FRAMEWORKS):
                found += [
                    f"{module}: from {node.module} import {a.name}"
                    for a in node.names
                    if _private(a.name)
                ]
                if any(_private(part) for part in (node.module or "").split(".")):
                    found.append(f"{module}: from {node.module}")
            elif isinstance(node, ast.Import):
                found += [
                    f"{module}: import {a.name}"
                    for a in node.names
                    if a.name.startswith(FRAMEWORKS) and any(_private(p) for p in a.name.split("."))
                ]
            elif (
                isinstance(node, ast.Attribute)
                and _private(node.attr)
                and node.attr not in ours | DOCUMENTED
            ):
                found.append(f"{module}:{node.lineno}: .{node.attr}")
    assert found == []


def test_private_name_check_catches_a_framework_internal() -> None:
    tree = ast.parse("smtp._rset()\nfrom django.middleware.csrf import _mask_cipher_secret\n")
    attributes = [n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)]
    imported = [a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names]
    assert "_rset" not in _our_private_names() and _private(attributes[0])
    assert _private(imported[0])


def test_session_and_authentication_machinery_are_the_frameworks() -> None:
    assert settings.SESSION_ENGINE in {
        "django.contrib.sessions.backends.db",
        "django.contrib.sessions.backends.cached_db",
    }
    assert settings.AUTHENTICATION_BACKENDS == [
        "django.contrib.auth.backends.ModelBackend",
        "allauth.account.auth_backends.AuthenticationBackend",
    ]
    assert settings.DATABASES["default"]["ENGINE"].startswith("django.db.backends.")
    assert settings.EMAIL_BACKEND.startswith(("django.", "anymail.", "feedback.", "cxcrm."))


def test_no_product_module_over_800_lines() -> None:
    long = {
        module: n
        for module, path in product_modules().items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


# A figure with a unit of time or a speed-up: "~0.3 ms", "27 µs", "13.4×".
TIMING = re.compile(r"\d(?:[\d.,]*)\s*(?:µs|us|ms|ns|×)(?![a-zA-Z])")


def test_comments_quote_at_most_ten_timings() -> None:
    quoting = [
        f"{module}:{number}"
        for module, path in product_modules().items()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if TIMING.search(line)
    ]
    assert len(quoting) <= MAX_TIMING_LINES, quoting


def test_timing_pattern_matches_what_it_should() -> None:
    assert TIMING.search("# ~0.3 ms of our CPU")
    assert TIMING.search("(~10 µs -> ~6 µs a hit)")
    assert not TIMING.search("max_items = 1000  # the API's limit")


# Below Django's cursor: the driver itself, its raw connection, the query log, the collector.
BENEATH_THE_ORM = re.compile(
    r"^\s*(?:import|from)\s+(?:psycopg|psycopg2|sqlite3|gc)\b"
    r"|\.connection\.(?:cursor|execute|pgconn)\b|\.cursor\.(?:copy|cursor|connection)\b"
    r"|\bcursor\.cursor\b|\bqueries_log\b"
)


def test_every_query_goes_through_djangos_cursor() -> None:
    found = [
        f"{module}:{number}: {line.strip()}"
        for module, path in product_modules().items()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if BENEATH_THE_ORM.search(line)
    ]
    assert found == []


def test_beneath_the_orm_pattern_matches_what_it_should() -> None:
    assert BENEATH_THE_ORM.search("import psycopg")
    assert BENEATH_THE_ORM.search("    with connection.cursor() as c, c.cursor.copy(sql):")
    assert BENEATH_THE_ORM.search("connection.queries_log.append(entry)")
    assert BENEATH_THE_ORM.search("import gc")
    assert not BENEATH_THE_ORM.search("with connection.cursor() as cursor:")
