"""The package's shape: no import cycles, and one table behind every list of models."""

import ast
import pathlib
import re

import pytest

import keras_vit
from keras_vit import variants
from keras_vit.models import BUILDERS, ViTConfig, build_model, macs
from keras_vit.weights import registry

pytestmark = pytest.mark.backend_independent(reason="reads the package's source files, the README and the tables")

PACKAGE = pathlib.Path(keras_vit.__file__).parent
README = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _top_level_imports(tree):
    """Imports that run when the module loads: any statement outside functions and classes."""
    pending = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        pending.extend(ast.iter_child_nodes(node))


def import_graph():
    """Module -> the keras_vit modules (and packages) that loading it runs first."""
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        edges = set()
        for imported in _top_level_imports(ast.parse(path.read_text(encoding="utf-8"))):
            parts = imported.split(".")
            for end in range(1, len(parts) + 1):
                target = ".".join(parts[:end])
                # A module's own packages are loading already when it runs.
                if target in modules and target != name and not name.startswith(target + "."):
                    edges.add(target)
        graph[name] = edges
    return graph


def find_cycle(graph):
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                return stack[stack.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_cycles():
    graph = import_graph()
    assert len(graph) > 50 and "keras_vit.models.builders" in graph["keras_vit.models"]
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_the_cycle_finder_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_weights_know_no_builder():
    graph = import_graph()
    for module, targets in graph.items():
        if module.startswith("keras_vit.weights"):
            assert not any(t.startswith("keras_vit.models") for t in targets), (module, targets)


@pytest.mark.parametrize("variant", sorted(variants.ALL_VARIANTS))
def test_every_row_of_the_table_has_its_builder(variant):
    name = variants.builder_name(variant)
    builder = BUILDERS[variant]
    assert builder.__name__ == name
    assert getattr(keras_vit, name) is builder is getattr(keras_vit.models, name)
    assert variants.lookup(name.lower()) == variants.lookup(variant) == variant
    assert variants.title(variant) in builder.__doc__


def test_builders_are_exactly_the_table():
    assert sorted(BUILDERS) == sorted(variants.ALL_VARIANTS)
    exported = {name for name in keras_vit.__all__ if re.fullmatch(r"(ViT|DeiT|DINOv2|SigLIP|CLIP)[A-Za-z]\w*\d+(Reg)?", name)}
    assert exported == {variants.builder_name(variant) for variant in variants.ALL_VARIANTS}
    with pytest.raises(ValueError, match=r"`model` must be a `.keras` file or one of Ti/16, .*ViTR50L32"):
        build_model("G/14")


def _readme_rows(first_column):
    rows = {}
    for line in README.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if line.startswith("| `ViT") and re.fullmatch(first_column, cells[0].strip("`")):
            rows[cells[0].strip("`")] = cells[1:]
    return rows


def test_the_readme_variant_table_is_the_table():
    rows = _readme_rows(r"ViT[A-Z][a-z]?\d+")
    assert sorted(rows) == sorted(variants.builder_name(v) for v in variants.VARIANTS)
    for variant, size in variants.VARIANTS.items():
        patch, width, depth, mlp, heads, _, gmacs, _ = rows[variants.builder_name(variant)]
        assert (int(patch), int(width), int(depth), int(mlp), int(heads)) == (
            size.patch_size, size.hidden_dim, size.num_layers, size.mlp_dim, size.num_heads
        )
        assert float(gmacs) == round(macs(ViTConfig(**vars(size))) / 1e9, 2)


def test_the_readme_hybrid_table_is_the_table():
    rows = _readme_rows(r"ViTR\w+")
    assert sorted(rows) == sorted(variants.builder_name(v) for v in variants.HYBRID_VARIANTS)
    for variant, size in variants.HYBRID_VARIANTS.items():
        stages, stride, patch, *_, gmacs = rows[variants.builder_name(variant)]
        assert stages == (str(size.resnet_layers) if size.resnet_layers else "root only")
        assert (int(stride), int(patch)) == (variants.stem_stride(size.resnet_layers), size.patch_size)
        assert float(gmacs) == round(macs(ViTConfig(**vars(size))) / 1e9, 2)


def _readme_table(first_header):
    """The rows of the README table whose header starts with `first_header`, as cells."""
    lines = iter(README.splitlines())
    for line in lines:
        if line.startswith(f"| {first_header} |"):
            next(lines)  # the |---| row
            rows = []
            for row in lines:
                if not row.startswith("|"):
                    break
                rows.append([cell.strip() for cell in row.strip().strip("|").split("|")])
            return rows
    raise AssertionError(f"README.md has no table headed {first_header}")


def test_the_readme_weights_table_is_the_registry():
    shown = {}
    for name, _, image_size, num_classes, names in _readme_table("`weights=`"):
        classes = None if num_classes == "-" else int(num_classes)
        shown[(name.strip('`"'), int(image_size), classes)] = set(names.split(", "))
    published = {}
    for entry in registry.REGISTRY.values():
        published.setdefault((entry.name, entry.image_size, entry.num_classes), set()).add(entry.variant)
    assert shown == published
