"""Arrow's compute functions for the ingest, called without importing pyarrow.compute.

Importing pyarrow.compute wraps each of Arrow's ~290 compute functions in a generated Python
function with its docstring: ~180M instructions, ~9 % of a 1-row CLI ingest's start, for the
~30 functions an ingest calls. Here a function's wrapper is made when it is first used, from
the same registry (pyarrow._compute), and is called as pyarrow.compute's: `equal(a, b)`,
`utf8_lpad(s, 6, "0")` (options by position or keyword), `is_in(s, value_set=v)`; a trailing
underscore names a Python keyword (`and_`, `or_`). pyarrow's own methods that call compute
functions (`Array.cast`, `.take`, `.fill_null`, `.dictionary_encode`, `.is_null`,
`RecordBatch.filter` ...) import pyarrow.compute, so the ingest calls them from here
(`cast`, `take`, ...) with the same results; tests/test_startup.py checks that a CLI ingest
does not import pyarrow.compute.

Usage: `from transship import compute as pc`. Imports nothing of transship.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pyarrow as pa

try:  # pyarrow's private registry module; pyarrow.compute re-exports what is used of it
    from pyarrow import _compute as _c

    _c.call_function, _c.get_function, _c.CastOptions  # noqa: B018
except (ImportError, AttributeError):  # another pyarrow: the public module, imported
    import pyarrow.compute as _c


def cast(arr: Any, target_type: pa.DataType, safe: bool = True) -> Any:
    """`arr.cast(target_type)`."""
    options = _c.CastOptions.safe(target_type) if safe else _c.CastOptions.unsafe(target_type)
    return _c.call_function("cast", [arr], options)


def fill_null(values: Any, fill_value: Any) -> Any:
    """`values.fill_null(fill_value)`: nulls replaced by `fill_value`."""
    if not isinstance(fill_value, pa.Array | pa.ChunkedArray | pa.Scalar):
        fill_value = pa.scalar(fill_value, type=values.type)
    elif values.type != fill_value.type:
        fill_value = pa.scalar(fill_value.as_py(), type=values.type)
    return _c.call_function("coalesce", [values, fill_value])


def take(data: Any, indices: Any) -> Any:
    """`data.take(indices)`."""
    return _c.call_function("take", [data, indices], _c.TakeOptions(boundscheck=True))


def filter(data: Any, mask: Any) -> Any:
    """`data.filter(mask)`: the rows where `mask` is true (null: dropped)."""
    return _c.call_function("filter", [data, mask], _c.FilterOptions("drop"))


def dictionary_encode(arr: Any) -> Any:
    """`arr.dictionary_encode()` (nulls stay nulls, not dictionary entries)."""
    return _c.call_function("dictionary_encode", [arr], _c.DictionaryEncodeOptions("mask"))


def is_null(arr: Any) -> Any:
    """`arr.is_null()` (NaN is not null)."""
    return _c.call_function("is_null", [arr], _c.NullOptions(nan_is_null=False))


@functools.cache
def _wrapper(name: str) -> Callable[..., Any]:
    func = _c.get_function(name)
    arity = func.arity
    try:  # a private attribute: with a pyarrow without it, pyarrow.compute's own wrapper
        doc_class = func._doc.options_class
    except AttributeError:
        import pyarrow.compute

        return getattr(pyarrow.compute, name)  # type: ignore[no-any-return]
    options_class = getattr(_c, doc_class) if doc_class else None

    def wrapper(*args: Any, options: Any = None, memory_pool: Any = None, **kwargs: Any) -> Any:
        given = args if arity is Ellipsis else args[:arity]
        extra = () if arity is Ellipsis else args[arity:]
        if extra or kwargs:
            if options is not None or options_class is None:
                raise TypeError(f"{name}: options given twice, or it takes none")
            options = options_class(*extra, **kwargs)
        return func.call(list(given), options, memory_pool)

    wrapper.__name__ = name
    return wrapper


def __getattr__(name: str) -> Callable[..., Any]:
    if name.startswith("__"):
        raise AttributeError(name)
    try:
        return _wrapper(name[:-1] if name.endswith("_") else name)
    except pa.ArrowKeyError:
        raise AttributeError(f"no compute function {name!r}") from None
