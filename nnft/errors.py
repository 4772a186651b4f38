"""Error classes. Every error nnft raises on bad input is an :class:`NnftError`.

A :class:`SpecError` names the file, the field path inside it, what was given, what is allowed
and, where one is obvious, a suggestion. The CLI prints ``str(err)`` and exits non-zero.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence


class NnftError(Exception):
    """Base class of every nnft error.

    Source: not from a paper: the error hierarchy.
    """


#: C0 and C1 control characters (ESC, CSI, BEL, ...) and the Unicode format characters that can
#: reorder or hide terminal text (bidi overrides); newlines and tabs are kept
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def printable(text: str) -> str:
    """``text`` with terminal control characters replaced by U+FFFD (spec text is untrusted: a name
    such as ``"\\e]0;...\\a"`` must not reach a terminal as an escape sequence)."""
    return _CONTROL.sub("\ufffd", str(text))


#: Greek and Cyrillic letters drawn like Latin ones (a small part of Unicode's confusables table,
#: UTS #39): ``--set Ν=4`` with a Greek capital Nu reads as ``N`` but is another name
_LOOKALIKES = dict(zip(
    "ΑΒΕΖΗΙΚΜΝΟΡΤΥΧοϲϳ"            # Greek
    "АВЕКМНОРСТХЅІЈаеорсхуіјѕԁԛԝһ",  # Cyrillic
    "ABEZHIKMNOPTYXocj"
    "ABEKMHOPCTXSIJaeopcxyijsdqwh"))
_LOOKALIKES["0"] = "O"              # a digit zero prints like a capital O (sigma_wΟ -> sigma_w0)


def _skeleton(word: str) -> str:
    """``word`` with compatibility forms folded (NFKC: fullwidth ``Ｎ``, mathematical ``𝑁``) and the
    look-alike letters replaced by the Latin ones they are drawn like."""
    return "".join(_LOOKALIKES.get(c, c) for c in unicodedata.normalize("NFKC", word))


def lookalike_note(word: str) -> str | None:
    """Which characters of ``word`` look like Latin letters but are not (``'Ν' is U+039D GREEK CAPITAL
    LETTER NU, not 'N' (U+004E)``), or None when it has none."""
    parts = []
    for c in dict.fromkeys(str(word)):
        latin = _skeleton(c)
        if not c.isascii() and latin != c and latin.isascii():
            parts.append(f"{c!r} is U+{ord(c):04X} {unicodedata.name(c, 'a look-alike')}, not {latin!r} (U+{ord(latin):04X})")
    return "; ".join(parts) or None


def did_you_mean(word: str, guess: str | None) -> str | None:
    """The hint for an unknown name ``word``: ``did you mean 'N'?``, followed by the look-alike
    characters of ``word`` when it has any (a guess that prints like ``word`` needs the reason)."""
    note = lookalike_note(word)
    if guess is None:
        return note
    return f"did you mean {guess!r}?" + (f" ({note})" if note else "")


def suggest(word: str, options: Iterable[str]) -> str | None:
    """The closest of ``options`` to ``word`` (for 'did you mean ...?'), or None: an option drawn the
    same (``Ν``, Greek capital Nu, -> ``N``; see :func:`lookalike_note`), else one differing only in
    case (``Tanh``), else one two swapped neighbouring letters away (``tahn`` -> ``tanh``, which
    difflib ranks below ``tan``), else difflib's closest match."""
    word, options = str(word), [str(o) for o in options]
    skeleton = _skeleton(word)
    for o in options:
        if o != word and _skeleton(o) == skeleton:
            return o
    for o in options:
        if o.lower() == word.lower():
            return o
    swapped = {word[:i] + word[i + 1] + word[i] + word[i + 2:] for i in range(len(word) - 1)}
    for o in options:
        if o in swapped:
            return o
    hits = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return hits[0] if hits else None


def format_path(path: Sequence[str | int]) -> str:
    """``('params', 'W0', 'density')`` -> ``params.W0.density``; list indices as ``[i]``."""
    out = ""
    for p in path:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out or "<top level>"


class SpecError(NnftError, ValueError):
    """A spec file (or spec dict) is malformed.

    Attributes:
      file: the spec file ("<dict>" when built from Python).
      field: dotted path of the offending field, e.g. ``params.W0.density.normal.std``.
      got: what was given (repr), or None.
      allowed: what would have been accepted, or None.
      hint: a suggestion ("did you mean 'normal'?"), or None.

    Source: not from a paper: spec-file validation.
    """

    def __init__(self, message: str, *, file: str | None = None, field: Sequence[str | int] | str | None = None,
                 got: object = None, allowed: str | None = None, hint: str | None = None):
        self.message = message
        self.file = file or "<dict>"
        self.field = field if isinstance(field, str) or field is None else format_path(field)
        self.got = got
        self.allowed = allowed
        self.hint = hint
        super().__init__(self._render())

    def with_location(self, *, file: str | None = None, prefix: Sequence[str | int] = ()) -> "SpecError":
        """A copy located in ``file`` with ``prefix`` prepended to the field path."""
        field = self.field
        if prefix:
            pre = format_path(prefix)
            field = pre if not field or field == "<top level>" else f"{pre}.{field}"
        return type(self)(self.message, file=file or self.file, field=field, got=self.got,
                          allowed=self.allowed, hint=self.hint)

    def _render(self) -> str:
        lines = [f"{self.file}: {self.field or '<top level>'}: {self.message}"]
        if self.got is not None:
            got = repr(self.got)
            lines.append(f"  got: {got if len(got) < 200 else got[:200] + '...'}")
        if self.allowed:
            lines.append(f"  allowed: {self.allowed}")
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return printable("\n".join(lines))


class GraphError(SpecError):
    """The spec is well-formed but its graph is not: undefined names, shape mismatches, cycles.

    Source: not from a paper: computation-graph validation.
    """


class ReferenceMismatchError(SpecError):
    """A spec's declared ``reference:`` contradicts the spec's own parameter laws: the reference's
    per-neuron two-point function disagrees with a fixed-key neuron-level estimate by more than the
    stated |z| bound. Both values are named in the message."""


class InputError(NnftError, ValueError):
    """An argument of the Python API or the command line is malformed, ambiguous or out of bounds
    (e.g. a sample count that is not an integer, point tuples that can be read two ways, a size
    above its documented limit). The message names the argument, what was given and what is allowed.

    Source: not from a paper: argument validation.
    """


class SamplingError(NnftError, RuntimeError):
    """Sampling produced non-finite values (NaN/inf); they are reported, never averaged.

    Source: not from a paper: sampling failures.
    """


class EstimatorError(NnftError, ValueError):
    """An estimator was asked for something the ensemble or structure cannot give.

    Source: not from a paper: estimator refusals.
    """


class ReweightingWarning(UserWarning):
    """Importance weights degenerated: the effective sample size is too small to trust the estimate.

    Source: not from a paper (the Kish effective sample size of importance weights).
    """


class TailWarning(UserWarning):
    """A Monte Carlo estimate has a heavy tail of per-sample contributions (Pareto k̂ > 0.7,
    ``nnft.tails``; PSIS, arXiv:1507.02646): unreliable even if finite; k̂ ≥ 1: the mean does not exist."""


class NeuronArgError(NnftError, ValueError):
    """Bad constructor arguments / input dimension / points for a :class:`NeuronReference`."""


class QuadratureError(NnftError, RuntimeError):
    """A quadrature did not reach the stated accuracy (e.g. a near-degenerate point set)."""


class ExprError(NnftError, ValueError):
    """A syntax or vocabulary error in one expression (the caller adds file and field)."""

    def __init__(self, message: str, hint: str | None = None):
        self.hint = hint
        super().__init__(message)


class LocatedError(NnftError, ValueError):
    """A validation error that knows where, below the value being validated, the problem is.

    Raised inside validators; the loader (``nnft.spec.load``) appends ``loc`` to pydantic's location
    and turns ``allowed`` / ``hint`` into the matching parts of the :class:`~nnft.errors.SpecError`.
    """

    def __init__(self, message: str, loc: tuple = (), *, allowed: str | None = None, hint: str | None = None):
        super().__init__(message)
        self.loc = tuple(loc)
        self.allowed = allowed
        self.hint = hint


class KernelError(NnftError, ValueError):
    """The graph has an operation (or density) with no infinite-width kernel map.

    Source: not from a paper: kernel-map refusals.
    """


class ConvergenceWarning(UserWarning):
    """An MCMC ensemble whose diagnostics fail (R̂, ESS, divergences or block length)."""


class DensityArgError(NnftError, ValueError):
    """Bad arguments for a density (or a moment that does not exist).

    Attributes: ``density`` (registry name), ``arg`` (argument name or None), ``value`` (the
    offending value or None), ``constraint`` (what was required, or None).
    """

    def __init__(self, message: str, *, density: str, arg: str | None = None,
                 value: object = None, constraint: str | None = None):
        self.density = density
        self.arg = arg
        self.value = value
        self.constraint = constraint
        super().__init__(message)


class UnknownNameError(NnftError, KeyError):
    """A registry lookup (density, activation) of a name nnft does not know; the message lists the known ones."""

    def __str__(self) -> str:          # KeyError would print the message with quotes around it
        return str(self.args[0]) if self.args else ""


class CheckpointError(NnftError, ValueError):
    """A checkpoint file cannot be used for this run: it belongs to a different run (the message names
    every field of the run's fingerprint that differs), it is not an nnft checkpoint, or it exists and
    the run was not asked to resume it."""


class CheckpointWarning(UserWarning):
    """``resume`` was asked but there is no checkpoint file to resume: the run starts afresh."""
