"""Regular expressions written by users, bounded so one can never hang a worker.

Three bounds: the pattern's length and shape are checked on save (nested quantifiers such as
`(a+)+`, the classic catastrophic-backtracking shape, are refused with a message saying so); the
text matched is capped in length; and matching runs under the `regex` module's timeout, which
stops the engine itself, in any thread, where `re` has no way to be interrupted.
"""

import re

import regex

MAX_PATTERN_LENGTH = 500
MAX_INPUT_LENGTH = 100_000
TIMEOUT_SECONDS = 0.25


class RegexRefused(ValueError):
    pass


class RegexTooSlow(RuntimeError):
    pass


def check_pattern(pattern) -> None:
    """Raise RegexRefused with a reason a person can act on, or return if the pattern is acceptable."""
    if not isinstance(pattern, str) or not pattern:
        raise RegexRefused("a regular expression must be a non-empty string")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise RegexRefused(f"the regular expression is {len(pattern)} characters; the limit is {MAX_PATTERN_LENGTH}")
    try:
        regex.compile(pattern)
    except regex.error as exc:
        raise RegexRefused(f"invalid regular expression: {exc}") from None
    if _has_nested_quantifier(pattern):
        raise RegexRefused(
            "nested quantifiers such as (a+)+ or (a*)* can take exponential time; "
            "rewrite the pattern without a repeated group that itself repeats"
        )


def search(pattern: str, text: str) -> bool:
    """Whether `pattern` matches anywhere in `text`, within the length and time bounds."""
    if len(text) > MAX_INPUT_LENGTH:
        raise RegexTooSlow(f"the text is {len(text)} characters; matching is limited to {MAX_INPUT_LENGTH}")
    try:
        return regex.search(pattern, text, timeout=TIMEOUT_SECONDS) is not None
    except TimeoutError:
        raise RegexTooSlow(
            f"the regular expression took over {TIMEOUT_SECONDS}s on {len(text)} characters and was stopped; "
            "simplify it"
        ) from None


def _has_nested_quantifier(pattern: str) -> bool:
    """A repeat (upper bound > 1) containing another such repeat, found in the parsed pattern.

    Uses the standard library's parser; a pattern only `regex` understands (e.g. `\\p{L}`) is
    left to the timeout.
    """
    try:
        from re import _parser as parser  # the stdlib's own parser; no public equivalent
    except ImportError:  # pragma: no cover - a future Python without it still has the timeout
        return False
    try:
        parsed = parser.parse(pattern)
    except re.error:
        return False
    return _walk(parsed, inside_repeat=False)


_REPEATS = {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}


def _walk(items, *, inside_repeat: bool) -> bool:
    for op, arg in items:
        name = str(op)
        if name in _REPEATS:
            _low, high, body = arg
            unbounded = high is None or high > 1
            if unbounded and inside_repeat:
                return True
            if _walk(body, inside_repeat=inside_repeat or unbounded):
                return True
        elif name == "SUBPATTERN":
            if _walk(arg[-1], inside_repeat=inside_repeat):
                return True
        elif name == "ATOMIC_GROUP":
            if _walk(arg, inside_repeat=inside_repeat):
                return True
        elif name == "BRANCH":
            if any(_walk(branch, inside_repeat=inside_repeat) for branch in arg[1]):
                return True
        elif name in {"ASSERT", "ASSERT_NOT"} and _walk(arg[1], inside_repeat=inside_repeat):
            return True
    return False
