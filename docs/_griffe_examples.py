"""Griffe extensions: keras_vit's docstrings as Keras writes them.

`KerasExamples` reads the `Example:` sections as code; `KerasConstructor` gives
a Keras class without an `__init__` of its own the constructor it inherits.

keras_vit's docstrings follow Keras' format, where the doctest lines of an
`Example:` section start at the section's own indentation:

    Example:

    >>> model = keras_vit.ViTTi16()

Google style, as Griffe parses it, wants a section's body indented under its
title, and takes `Example:` for an admonition; either way the lines would render
as Markdown quotes. This extension retitles the section `Examples:` and indents such a body (its doctest lines and their output, blank lines between
examples included, up to text after a blank line), so each example renders as
code.
"""

import re

import griffe

_KINDS = griffe.ParameterKind

_TITLE = re.compile(r"^(\s*)Examples?:\s*$")


def indent_examples(text):
    """Returns `text` with each `Example:` section as a Google `Examples:` section."""
    lines = text.split("\n")
    out = []
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        title = _TITLE.match(line)
        if not title:
            out.append(line)
            continue
        out.append(title.group(1) + "Examples:")
        margin = title.group(1)
        start = index
        while start < len(lines) and not lines[start].strip():
            start += 1
        if start == len(lines) or not lines[start].startswith(margin + ">>>"):
            continue
        index = start
        while index < len(lines):
            following = index
            while following < len(lines) and not lines[following].strip():
                following += 1
            if following > index and not (
                following < len(lines) and lines[following].startswith(margin + ">>>")
            ):
                break
            out.extend([""] * (following - index))
            if following == len(lines):
                break
            out.append("    " + lines[following])
            index = following + 1
    return "\n".join(out)


class KerasExamples(griffe.Extension):
    """Indents the body of every unindented `Example:` section before parsing."""

    def on_instance(self, *, node, obj, agent, **kwargs):
        if obj.docstring is not None:
            obj.docstring.value = indent_examples(obj.docstring.value)


class KerasConstructor(griffe.Extension):
    """Gives a class that inherits Keras' `__init__` an `__init__(**kwargs)`.

    Keras is not loaded, so Griffe cannot see the constructor such a class
    inherits, and would report the `**kwargs` its docstring documents as
    unknown.
    """

    def on_class_instance(self, *, node, cls, agent, **kwargs):
        if "__init__" in cls.members or not any(str(base).startswith("keras.") for base in cls.bases):
            return
        parameters = griffe.Parameters(
            griffe.Parameter("self", kind=_KINDS.positional_or_keyword),
            griffe.Parameter("kwargs", kind=_KINDS.var_keyword),
        )
        cls.set_member("__init__", griffe.Function("__init__", parameters=parameters, parent=cls))
