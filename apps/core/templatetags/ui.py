"""UI helpers for every page: icons, times and durations, status badges and the JSON viewer."""

import json
import textwrap
from datetime import date, datetime
from decimal import Decimal

import pygments
from django import template
from django.utils import timezone
from django.utils.html import escape, format_html, json_script
from django.utils.safestring import SafeString, mark_safe
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name

from apps.core.templatetags.lucide import ICONS

register = template.Library()

# Status values of every model (runs, steps, test runs, breakpoint hits, MCP logs, keys) mapped to a tone.
STATUS_TONES = {
    "completed": "success",
    "passed": "success",
    "success": "success",
    "active": "success",
    "response": "success",
    "resumed": "success",
    "enabled": "success",
    "failed": "error",
    "error": "error",
    "aborted": "error",
    "revoked": "muted",
    "running": "info",
    "call": "info",
    "in_progress": "info",
    "pending": "warning",
    "paused": "warning",
    "waiting": "warning",
    "skipped": "muted",
    "disabled": "muted",
}

JSON_OPEN_DEPTH = 2  # objects nested deeper start collapsed
JSON_MAX_NODES = 5000  # past this many values the rest is elided (the copy button still copies all)
JSON_MAX_DEPTH = 64  # deeper containers are elided (the copy button still copies them)
JSON_MAX_STRING = 50_000  # characters of one string in the page; the copy button copies the rest
JSON_FOLD_CHARS = 600  # longer strings show this much, then "show more"
JSON_FOLD_LINES = 12


@register.simple_tag
def icon(name: str, size: int = 16, **attrs) -> SafeString:
    """An inline Lucide SVG: `{% icon "activity" size=20 class="text-muted" %}`."""
    try:
        body = ICONS[name]
    except KeyError:
        raise template.TemplateSyntaxError(
            f"Unknown icon {name!r}: add it to apps/core/templatetags/lucide.py"
        ) from None
    classes = " ".join(filter(None, ["icon", f"icon-{name}", attrs.pop("class", "")]))
    extra = "".join(format_html(' {}="{}"', key.replace("_", "-"), value) for key, value in attrs.items())
    return format_html(
        '<svg class="{}" width="{}" height="{}" viewBox="0 0 24 24" fill="none" stroke="currentColor" '
        'stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"{}>{}</svg>',
        classes,
        size,
        size,
        mark_safe(extra),  # built with format_html above
        mark_safe(body),  # our own constant SVG markup
    )


def _ago(delta_seconds: float) -> str:
    seconds = abs(delta_seconds)
    if seconds < 45:
        return "just now"
    for limit, unit, size in ((45 * 60, "min", 60), (22 * 3600, "hour", 3600), (26 * 86400, "day", 86400)):
        if seconds < limit:
            count = max(1, round(seconds / size))
            label = unit if unit == "min" or count == 1 else f"{unit}s"
            return f"{count} {label} ago" if delta_seconds >= 0 else f"in {count} {label}"
    return ""


@register.filter
def timesince_short(value: datetime | None, now: datetime | None = None) -> str:
    """'just now', '5 min ago', '3 hours ago', '2 days ago', then the date."""
    if not value:
        return ""
    now = now or timezone.now()
    text = _ago((now - value).total_seconds())
    if text:
        return text
    local = timezone.localtime(value)
    day = f"{local:%b} {local.day}"
    return day if local.year == timezone.localtime(now).year else f"{day}, {local.year}"


@register.simple_tag
def reltime(value: datetime | None, default: str = "—") -> SafeString:
    """A `<time>` showing relative time, with the exact UTC time as its tooltip."""
    if not value:
        return format_html('<span class="text-muted">{}</span>', default)
    exact = timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S %Z")
    return format_html('<time datetime="{}" title="{}">{}</time>', value.isoformat(), exact, timesince_short(value))


@register.filter
def usd(amount) -> str:
    """Dollars for people: '$1.24', '$0.0123', '$0.000435' (three significant digits under a cent),
    '$0.00'; '' for no amount, so a template says "no price" itself rather than showing $0."""
    if amount is None or amount == "":
        return ""
    value = Decimal(amount)
    if value >= 1 or value == 0:
        return f"${value:,.2f}"
    # under a dollar: four decimals from a cent up, else three significant digits; no trailing zeros
    digits = 4 if value >= Decimal("0.01") else max(2 - value.adjusted(), 0)
    text = f"{value:.{digits}f}".rstrip("0")
    return f"${text}" if len(text.partition(".")[2]) >= 2 else f"${value:.2f}"


@register.filter
def duration(ms: float | None) -> str:
    """Milliseconds for people: '—', '<1 ms', '420 µs', '12 ms', '1.24 s', '2m 03s', '1h 04m'.

    Whole milliseconds (what steps store) under one read '<1 ms', never '0 ms': the step took time.
    static/js/app.js formats live durations the same way."""
    if ms is None:
        return "—"
    ms = float(ms)
    if ms < 1:
        return f"{ms * 1000:.0f} µs" if ms >= 0.001 else "<1 ms"
    if ms < 1000:
        return f"{ms:.0f} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.1f} s"
    minutes, seconds = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


@register.filter
def epoch_ms(value: datetime | None) -> int | str:
    """A moment as milliseconds since the epoch (what static/js/app.js counts live durations from)."""
    return round(value.timestamp() * 1000) if value else ""


@register.simple_tag
def server_now_ms() -> int:
    """The server's clock, for the page's live durations to count on it, not on the browser's."""
    return round(timezone.now().timestamp() * 1000)


@register.filter
def percent(ratio: float | None, digits: int = 1) -> str:
    """0.9375 -> '93.8%'; None -> '—'."""
    if ratio is None:
        return "—"
    return f"{ratio * 100:.{digits}f}%".replace(".0%", "%")


@register.filter
def ratio(part: float | None, whole: float | None) -> float | None:
    """part / whole, or None when there is no whole: `{{ failed|ratio:total|percent }}`."""
    return part / whole if part is not None and whole else None


@register.filter
def isodate(value: str | None) -> date | None:
    """An ISO date string (as the stats API gives) as a date, for the `date` filter."""
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


@register.filter
def initials(name: str | None) -> str:
    parts = [part for part in (name or "").replace(".", " ").replace("_", " ").split() if part]
    return "".join(part[0] for part in parts[:2]).upper() or "?"


@register.filter
def times(count: int) -> range:
    """`{% for _ in 5|times %}`: repeat a block (skeleton rows)."""
    return range(int(count))


@register.filter
def tone(status: str | None) -> str:
    return STATUS_TONES.get(str(status or "").lower(), "muted")


@register.inclusion_tag("components/status_badge.html")
def status_badge(status: str | None, label: str | None = None) -> dict:
    """A coloured pill for any status value: `{% status_badge run.status %}`."""
    value = str(status or "unknown")
    return {"tone": tone(value), "label": label or value.replace("_", " ").capitalize(), "status": value}


class _JsonRenderer:
    """Renders a JSON value as nested <details> with syntax colours; elides past JSON_MAX_NODES."""

    def __init__(self, open_depth: int):
        self.open_depth = open_depth
        self.nodes = 0

    def render(self, value, key=None, depth=0, last=True) -> str:
        self.nodes += 1
        label = self._key(key)
        comma = "" if last else '<span class="jv-punct">,</span>'
        if self.nodes > JSON_MAX_NODES:
            return '<div class="jv-row jv-elided">… too large to show in full: copy to see everything</div>'
        if isinstance(value, dict | list) and value and depth >= JSON_MAX_DEPTH:
            elided = '<span class="jv-elided">… nested too deep to show: copy to see everything</span>'
            return f'<div class="jv-row">{label}{elided}{comma}</div>'
        if isinstance(value, dict | list) and value:
            return self._container(value, label, comma, depth)
        if isinstance(value, dict | list):
            empty = "{}" if isinstance(value, dict) else "[]"
            return f'<div class="jv-row">{label}<span class="jv-punct">{empty}</span>{comma}</div>'
        return f'<div class="jv-row">{label}{self._scalar(value)}{comma}</div>'

    def _container(self, value, label: str, comma: str, depth: int) -> str:
        is_dict = isinstance(value, dict)
        opening, closing = ("{", "}") if is_dict else ("[", "]")
        count = len(value)
        noun = ("key" if is_dict else "item") + ("" if count == 1 else "s")
        items = list(value.items()) if is_dict else list(enumerate(value))
        children = "".join(
            self.render(child, key if is_dict else None, depth + 1, index == count - 1)
            for index, (key, child) in enumerate(items)
        )
        is_open = " open" if depth < self.open_depth else ""
        return (
            f'<details class="jv-node"{is_open}><summary>{label}<span class="jv-punct">{opening}</span>'
            f'<span class="jv-collapsed">…{closing}{comma}</span><span class="jv-count">{count} {noun}</span>'
            f'</summary><div class="jv-children">{children}</div>'
            f'<div class="jv-close"><span class="jv-punct">{closing}</span>{comma}</div></details>'
        )

    @staticmethod
    def _key(key) -> str:
        if key is None:
            return ""
        return f'<span class="jv-key">"{escape(str(key))}"</span><span class="jv-punct">: </span>'

    @staticmethod
    def _scalar(value) -> str:
        if value is None:
            return '<span class="jv-null">null</span>'
        if isinstance(value, bool):
            return f'<span class="jv-bool">{"true" if value else "false"}</span>'
        if isinstance(value, int | float):
            return f'<span class="jv-number">{escape(json.dumps(value))}</span>'
        text = str(value)
        cut = ""
        if len(text) > JSON_MAX_STRING:
            cut = f'<span class="jv-more"> … {len(text) - JSON_MAX_STRING:,} more characters: copy to get them</span>'
            text = text[:JSON_MAX_STRING]
        fold = _fold_at(text)
        if fold is None:
            return f'<span class="jv-string">{escape(_quoted(text))}</span>{cut}'
        head, rest = _quoted(text[:fold])[:-1], _quoted(text[fold:])[1:]  # one string, in two spans
        hidden = len(text) - fold
        return (
            f'<span class="jv-string fold">{escape(head)}<span class="fold-rest">{escape(rest)}</span>'
            f'<button type="button" class="jv-show" data-fold-toggle data-less="show less">'
            f"… show more ({hidden:,} characters)</button></span>{cut}"
        )


def _quoted(text: str) -> str:
    """The string as JSON writes it, except that line breaks stay line breaks, so prompts read as text."""
    return '"' + "\n".join(json.dumps(line, ensure_ascii=False)[1:-1] for line in text.split("\n")) + '"'


def _fold_at(text: str) -> int | None:
    """Where a long string folds (an index into `text`), or None when it shows whole."""
    cut = JSON_FOLD_CHARS if len(text) > JSON_FOLD_CHARS + 200 else None
    lines = text.split("\n", JSON_FOLD_LINES + 4)
    if len(lines) > JSON_FOLD_LINES + 3:
        by_lines = sum(len(line) + 1 for line in lines[:JSON_FOLD_LINES]) - 1
        cut = by_lines if cut is None else min(cut, by_lines)
    return cut


@register.inclusion_tag("components/json_viewer.html")
def json_viewer(value, label: str = "", open_depth: int = JSON_OPEN_DEPTH, empty: str = "No data") -> dict:
    """A collapsible, colour-coded JSON tree with copy / expand / collapse: `{% json_viewer step.input %}`."""
    is_empty = value is None or value == {} or value == [] or value == ""
    tree = "" if is_empty else _JsonRenderer(open_depth).render(value)
    return {
        "label": label,
        "empty": empty if is_empty else "",
        "tree": mark_safe(tree),  # every value and key above is escaped
        "source": json_script(value) if not is_empty else "",
        "is_container": isinstance(value, dict | list),
    }


class _HighlightNode(template.Node):
    def __init__(self, nodelist, language: str):
        self.nodelist = nodelist
        self.language = language

    def render(self, context) -> str:
        # Pygments escapes the code, so the body renders unescaped to avoid escaping twice.
        autoescape, context.autoescape = context.autoescape, False
        try:
            code = textwrap.dedent(self.nodelist.render(context)).strip("\n")
        finally:
            context.autoescape = autoescape
        lexer = get_lexer_by_name(self.language, stripnl=False)
        return mark_safe(pygments.highlight(code, lexer, HtmlFormatter(nowrap=True)).rstrip("\n"))


@register.tag
def highlight(parser, token):
    """Syntax-coloured code (Pygments classes, styled in app.css): `{% highlight "python" %}...{% endhighlight %}`."""
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError("{% highlight %} takes one argument: the language, quoted.")
    nodelist = parser.parse(("endhighlight",))
    parser.delete_first_token()
    return _HighlightNode(nodelist, bits[1].strip("\"'"))
