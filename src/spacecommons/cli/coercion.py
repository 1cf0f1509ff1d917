"""Typer's conversion of ``str``, ``int`` and ``bool`` parameters, without pydantic for the plain cases.

Typer (0.2x) converts every parameter value through a pydantic ``TypeAdapter``, so the first
command line with a number or a text option imports pydantic: about as long as Typer's own import,
a quarter of a light command's start (issue #18, target 4); even a flag that is not given builds
its adapter. Here a ``str`` or ``bool`` value, and an ``int`` written as plain decimal digits, are
converted as that adapter converts them (unchanged; ``int(text)``); every other value (a sign,
spaces, underscores, non-ASCII digits, a wrong value) still goes to Typer's own adapter, so results
and error messages stay Typer's (``tests/test_cli_startup.py`` compares both on such values).
Where Typer's internals differ from what this expects (another version), nothing is changed.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from typing import Any

_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]{0,17})")  # fits an int64; no sign "+", no leading zeros


def _plain(descriptor) -> bool:
    """Whether Typer would convert this parameter with its plain ``str``, ``bool`` or ``int`` adapter."""
    info = descriptor.parameter_info
    if descriptor.file_annotation is not None or getattr(info, "parser", None) is not None:
        return False
    if descriptor.annotation in (str, bool):
        return True
    return descriptor.annotation is int and getattr(info, "min", None) is None and getattr(info, "max", None) is None


def install() -> bool:
    """Put the plain conversions in front of Typer's; False (nothing changed) for a Typer without
    the pydantic conversion layer."""
    try:
        from typer._coercion import RuntimeParam, build_runtime_param
        from typer.core import _TyperParameter
    except ImportError:
        return False
    original = getattr(_TyperParameter, "get_runtime_param", None)
    if original is None or getattr(original, "_spacecommons", False):
        return original is not None

    @dataclass(frozen=True)
    class PlainRuntimeParam(RuntimeParam):
        def _coerce_value(self, value: Any, param, ctx) -> Any:
            if self.annotation in (str, bool) and type(value) is self.annotation:
                return value
            if self.annotation is int:
                if type(value) is int:
                    return value
                if type(value) is str and _DECIMAL.fullmatch(value):
                    return int(value)
            return build_runtime_param(param.type_descriptor)._coerce_value(value, param=param, ctx=ctx)

    def get_runtime_param(self):
        if self._runtime_param is None and _plain(self.type_descriptor):
            with contextlib.suppress(TypeError):  # another Typer's RuntimeParam: Typer's own conversion
                self._runtime_param = PlainRuntimeParam(
                    parameter_info=self.type_descriptor.parameter_info, annotation=self.type_descriptor.annotation
                )
        return original(self)

    get_runtime_param._spacecommons = True
    _TyperParameter.get_runtime_param = get_runtime_param
    return True
