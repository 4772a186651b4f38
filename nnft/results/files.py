"""Result files: an ``xarray.Dataset`` written as netCDF (``.nc``) or JSON (``.json``), and read back.

netCDF files are netCDF-4 (HDF5) written with the ``h5netcdf`` engine: it needs no netCDF C library
(h5py ships HDF5 in its wheels), keeps int64, booleans and Unicode text (spec text, φ, k̂), which the
netCDF-3 ``scipy`` engine cannot. Any netCDF-4 reader (xarray, netCDF4-python, ncdump) opens them.

The JSON layout (:data:`JSON_FORMAT`, version :data:`JSON_VERSION`) holds the same Dataset::

    {"format": "nnft-result", "version": 1,
     "attrs": {name: value, ...},                     # str, int or float
     "coords": [names of the coordinate variables],
     "variables": {name: {"dims": [...], "dtype": "float64", "data": nested lists, "attrs": {...}}}}

Floats are written with Python's shortest round-trip repr, so float64 values come back bit for bit;
non-finite floats are the objects ``{"$float": "nan"}``, ``{"$float": "inf"}``, ``{"$float": "-inf"}``
(JSON has no NaN). Text variables have dtype ``"str"``.
"""

from __future__ import annotations

import json
import math
import os

import numpy as np

from nnft.errors import InputError

JSON_FORMAT = "nnft-result"
JSON_VERSION = 1
#: file extensions and their formats
FORMATS = {".nc": "netcdf", ".json": "json"}
#: the netCDF engine (see the module docstring)
ENGINE = "h5netcdf"
#: dtypes a JSON result file may declare (anything else is refused as damaged)
JSON_DTYPES = ("float64", "float32", "int64", "int32", "int16", "int8", "uint64", "uint32", "uint16", "uint8", "bool")


def _dtype(name, text=False):
    try:
        dt = np.dtype(name)
    except TypeError:
        dt = None
    if dt is not None and text and dt.kind == "U":
        return dt
    if dt is None or dt.name not in JSON_DTYPES:
        raise InputError(f"damaged result file: dtype {str(name)[:20]!r} is not one of {', '.join(JSON_DTYPES)}, str")
    return dt


def format_of(path) -> str:
    """``"netcdf"`` or ``"json"`` from the file's extension.

    Raises:
      InputError: any other extension.
    """
    ext = os.path.splitext(str(path))[1].lower()
    if ext not in FORMATS:
        raise InputError(f"{str(path)[:200]!r}: a result file must end in .nc (netCDF) or .json, not {ext or 'nothing'!r}")
    return FORMATS[ext]


#: pseudo file systems no result file can be created in
_PSEUDO_FS = ("/proc", "/sys", "/dev")


def check_writable(path) -> None:
    """Refuse, before any work, a result path with a wrong extension or that cannot be written.

    A symbolic link is followed (also a dangling one): its target's directory must exist and be
    writable. A new file is created and removed again to prove the path can be created.

    Raises:
      InputError: the extension is not .nc/.json, the directory does not exist or is not writable,
        the path is a directory, an existing read-only file, under /proc, /sys or /dev, or the
        system refuses to create it (the OS reason is given).
    """
    format_of(path)
    check_creatable(path, "result file")


def check_creatable(path, kind: str, prefix: str = "cannot write ") -> str:
    """Refuse, before any work, a path where a file (a result, a figure) cannot be created; returns
    the resolved path. Shared by results (``--out``) and figures (``--plot``).

    A symbolic link is followed (also a dangling one): its target's directory must exist and be
    writable. A new file is created and removed again to prove the path can be created (root
    ignores permission bits, so only the attempt proves it).

    Args:
      path: the file path (str or path-like).
      kind: what the file is, for the message ("result file", "figure").
      prefix: the start of every message, e.g. "cannot write a figure to ".

    Returns:
      the real path (links resolved) as a string.

    Raises:
      InputError: the directory does not exist or is not writable, the path is a directory, an
        existing read-only file, under /proc, /sys or /dev, or the system refuses to create it (the
        OS reason is given). One line.

    Source: not from a paper: file-system checks.
    """
    shown = str(path)[:200]
    p = os.path.realpath(os.path.abspath(str(path)))
    via = f" (a link to {p[:200]!r})" if p != os.path.abspath(str(path)) else ""
    parent = os.path.dirname(p)
    if os.path.isdir(p):
        raise InputError(f"{prefix}{shown!r}{via}: it is a directory, not a {kind}")
    if any(p == fs or p.startswith(fs + os.sep) for fs in _PSEUDO_FS):
        raise InputError(f"{prefix}{shown!r}{via}: {p.split(os.sep)[1]!r} is a system file system, not a place for files")
    if not os.path.isdir(parent):
        raise InputError(f"{prefix}{shown!r}{via}: directory {parent[:200]!r} does not exist")
    if not os.access(parent, os.W_OK) or (os.path.exists(p) and not os.access(p, os.W_OK)):
        raise InputError(f"{prefix}{shown!r}{via}: permission denied")
    try:
        if os.path.exists(p):
            with open(p, "ab"):
                pass
        else:
            os.close(os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
            os.remove(p)
    except OSError as err:
        raise InputError(f"{prefix}{shown!r}{via}: {_reason(err)}") from None
    return p


def _reason(err: OSError) -> str:
    """The operating system's reason for an OSError (not a library's wrapping text)."""
    if err.errno:
        return os.strerror(err.errno)
    return "the file could not be created"


# ----------------------------------------------------------------------------- JSON-safe values

def encode_float(x: float):
    """A float as JSON: itself when finite, else ``{"$float": "nan" | "inf" | "-inf"}``."""
    x = float(x)
    if math.isfinite(x):
        return x
    return {"$float": "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")}


def _decode_float(v):
    if isinstance(v, dict):
        if set(v) != {"$float"} or v["$float"] not in ("nan", "inf", "-inf"):
            raise InputError("damaged result file: an unknown JSON object where a number belongs")
        return float(v["$float"])
    return v


def _encode_data(a: np.ndarray):
    if a.dtype.kind == "f":
        return [encode_float(x) for x in a.ravel().tolist()]
    if a.dtype.kind in "iub":
        return a.ravel().tolist()
    if a.dtype.kind in "UO":
        out = a.ravel().tolist()
        if not all(isinstance(x, str) for x in out):
            raise InputError(f"cannot save a variable of non-text objects ({a.dtype})")
        return out
    raise InputError(f"cannot save a variable of dtype {a.dtype}")


def _attr(v):
    if isinstance(v, (bool, np.bool_)):
        return int(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return encode_float(v)
    if isinstance(v, str):
        return v
    raise InputError(f"cannot save an attribute of type {type(v).__name__}")


def to_json(ds) -> dict:
    """A Dataset as the JSON layout (a dict of JSON values); see the module docstring."""
    variables = {}
    for name, var in ds.variables.items():
        a = np.asarray(var.values)
        variables[str(name)] = {"dims": list(map(str, var.dims)), "shape": list(a.shape),
                                "dtype": "str" if a.dtype.kind in "UO" else a.dtype.name,
                                "data": _encode_data(a), "attrs": {k: _attr(v) for k, v in var.attrs.items()}}
    return {"format": JSON_FORMAT, "version": JSON_VERSION, "attrs": {k: _attr(v) for k, v in ds.attrs.items()},
            "coords": [str(c) for c in ds.coords], "variables": variables}


def from_json(doc) -> "xarray.Dataset":  # noqa: F821
    """The Dataset of a JSON layout dict.

    Raises:
      InputError: not the nnft layout, a newer version, or damaged.
    """
    import xarray as xr
    if not isinstance(doc, dict) or doc.get("format") != JSON_FORMAT:
        raise InputError("not an nnft result file (no \"format\": \"nnft-result\")")
    if doc.get("version") != JSON_VERSION:
        raise InputError(f"nnft result file version {str(doc.get('version'))[:20]}; this nnft reads version {JSON_VERSION}")
    try:
        coords, data_vars = {}, {}
        for name, v in doc["variables"].items():
            flat = [_decode_float(x) for x in v["data"]]
            dtype = object if v["dtype"] == "str" else _dtype(v["dtype"])
            if v["dtype"] == "str" and not all(isinstance(x, str) for x in flat):
                raise InputError("damaged result file: a text variable holds non-text")
            arr = np.array(flat, dtype=dtype).reshape(v["shape"])
            attrs = {k: _decode_float(a) for k, a in v["attrs"].items()}
            var = xr.Variable(tuple(v["dims"]), arr, attrs=attrs)
            (coords if name in doc["coords"] else data_vars)[name] = var
        attrs = {k: _decode_float(a) for k, a in doc["attrs"].items()}
        return xr.Dataset(data_vars, coords=coords, attrs=attrs)
    except InputError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise InputError(f"damaged nnft result file: {type(err).__name__}: {str(err)[:120]}") from None


def write(ds, path) -> None:
    """Write a Dataset to ``path`` as netCDF-4 (``.nc``) or JSON (``.json``).

    Raises:
      InputError: wrong extension, or the file cannot be written.
    """
    fmt = format_of(path)
    try:
        if fmt == "json":
            text = json.dumps(to_json(ds), ensure_ascii=False, allow_nan=False)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        else:
            ds.to_netcdf(path, engine=ENGINE)
    except OSError as err:
        raise InputError(f"cannot write {str(path)[:200]!r}: {_reason(err)}") from None


def read(path) -> "xarray.Dataset":  # noqa: F821
    """Read a result file (``.nc`` or ``.json``) into a Dataset.

    Raises:
      InputError: wrong extension, missing, unreadable, damaged or foreign file.
    """
    import xarray as xr
    fmt = format_of(path)
    if not os.path.isfile(path):
        raise InputError(f"no result file {str(path)[:200]!r}")
    try:
        if fmt == "json":
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
            ds = from_json(doc)
        else:
            ds = xr.load_dataset(path, engine=ENGINE)
    except InputError as err:
        raise InputError(f"{str(path)[:200]!r}: {err}") from None
    except (OSError, ValueError, UnicodeDecodeError, RecursionError) as err:
        raise InputError(f"{str(path)[:200]!r} is not a readable nnft result file "
                         f"({type(err).__name__}: {str(err)[:120]})") from None
    if "nnft_result" not in ds.attrs:
        raise InputError(f"{str(path)[:200]!r} is not an nnft result file (no 'nnft_result' attribute)")
    return ds


# ----------------------------------------------------------------------------- Python values as JSON text

def _pack(v):
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, (np.bool_,)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return encode_float(v)
    if isinstance(v, np.ndarray):
        items = v.ravel().tolist()
        if v.dtype.kind == "O":                     # text (and None) only: dtype "str", read back as objects
            bad = next((x for x in items if x is not None and not isinstance(x, str)), None)
            if bad is not None:
                raise InputError(f"cannot save an object array holding a {type(bad).__name__} "
                                 "(only text and None)")
            return {"$array": items, "dtype": "str", "shape": list(v.shape)}
        if v.dtype.kind not in "fiubU":
            raise InputError(f"cannot save an array of dtype {v.dtype}")
        return {"$array": [_pack(x) for x in items], "dtype": v.dtype.str, "shape": list(v.shape)}
    if isinstance(v, tuple):
        return {"$tuple": [_pack(x) for x in v]}
    if isinstance(v, list):
        return [_pack(x) for x in v]
    if isinstance(v, dict):
        if not all(isinstance(k, str) for k in v):
            raise InputError("cannot save a mapping with non-text keys")
        return {"$dict": {k: _pack(x) for k, x in v.items()}}
    raise InputError(f"cannot save a value of type {type(v).__name__}")


def _unpack(v):
    if isinstance(v, list):
        return [_unpack(x) for x in v]
    if isinstance(v, dict):
        if "$float" in v:
            return _decode_float(v)
        if "$tuple" in v:
            return tuple(_unpack(x) for x in v["$tuple"])
        if "$dict" in v:
            return {k: _unpack(x) for k, x in v["$dict"].items()}
        if "$array" in v:
            if v["dtype"] == "str":
                items = v["$array"]
                if not all(x is None or isinstance(x, str) for x in items):
                    raise InputError("damaged result file: a text array holds non-text")
                out = np.empty(len(items), dtype=object)
                out[:] = items
                return out.reshape(v["shape"])
            return np.array([_unpack(x) for x in v["$array"]], dtype=_dtype(v["dtype"], text=True)).reshape(v["shape"])
        raise InputError("damaged result file: an unknown JSON object in a packed value")
    return v


def pack(value) -> str:
    """A Python value (None, bool, int, float incl. NaN/inf, str, tuple, list, str-keyed dict, numpy
    array) as JSON text that :func:`unpack` turns back into an equal value (types kept).

    A numpy array is ``{"$array": [flat values], "dtype": numpy dtype string, "shape": [...]}``; an
    object array may hold only text and None: it is written with ``"dtype": "str"`` and read back as
    an object array of the same str/None values.

    Raises:
      InputError: a value of another type, or an object array holding anything but text and None
        (refused when writing, so no file is written that cannot be read back).
    """
    return json.dumps(_pack(value), ensure_ascii=False, allow_nan=False)


def unpack(text: str):
    """The value :func:`pack` wrote.

    Raises:
      InputError: damaged text.
    """
    try:
        return _unpack(json.loads(str(text)))
    except InputError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as err:
        raise InputError(f"damaged result file: {type(err).__name__}: {str(err)[:120]}") from None
