"""Package attributes that import their module on first use (PEP 562)."""

import importlib


def lazy_attributes(package, table):
    """Returns `__getattr__` and `__dir__` for a package whose attributes load lazily.

    Args:
        package: str. The package's `__name__`.
        table: dict. Attribute name to `"module"` (the attribute is that module)
            or `"module:name"` (the attribute is `name` in that module).

    Returns:
        The pair `(__getattr__, __dir__)` to assign in the package.
    """

    def __getattr__(name):
        if name not in table:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, _, attribute = table[name].partition(":")
        value = importlib.import_module(module)
        if attribute:
            value = getattr(value, attribute)
        importlib.import_module(package).__dict__[name] = value
        return value

    def __dir__():
        return sorted({*importlib.import_module(package).__dict__, *table})

    return __getattr__, __dir__
