import json
import re
from datetime import timedelta

import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.utils import timezone

from apps.core.templatetags import ui


def render(source: str, **context) -> str:
    return Template("{% load ui %}" + source).render(Context(context))


def test_icon_inlines_the_svg():
    html = render('{% icon "activity" size=20 class="text-muted" data_level="info" %}')
    assert html.startswith('<svg class="icon icon-activity text-muted" width="20" height="20"')
    assert 'data-level="info"' in html and 'aria-hidden="true"' in html and "<path" in html


def test_icon_refuses_an_unknown_name():
    with pytest.raises(TemplateSyntaxError, match="Unknown icon"):
        render('{% icon "no-such-icon" %}')


@pytest.mark.parametrize(
    "ms,text",
    [
        (None, "—"),
        (0, "<1 ms"),
        (0.42, "420 µs"),
        (12.4, "12 ms"),
        (1240, "1.24 s"),
        (61_000, "1m 01s"),
        (3_840_000, "1h 04m"),
    ],
)
def test_duration(ms, text):
    assert ui.duration(ms) == text


def test_percent_and_ratio():
    assert ui.percent(0.9375) == "93.8%"
    assert ui.percent(1) == "100%"
    assert ui.percent(None) == "—"
    assert ui.ratio(3, 4) == 0.75
    assert ui.ratio(3, 0) is None


def test_relative_time():
    now = timezone.now()
    assert ui.timesince_short(now - timedelta(seconds=5), now) == "just now"
    assert ui.timesince_short(now - timedelta(minutes=5), now) == "5 min ago"
    assert ui.timesince_short(now - timedelta(hours=3), now) == "3 hours ago"
    assert ui.timesince_short(now - timedelta(days=1), now) == "1 day ago"
    assert ui.timesince_short(now + timedelta(minutes=10), now) == "in 10 min"
    old = now - timedelta(days=400)
    assert ui.timesince_short(old, now).endswith(str(timezone.localtime(old).year))
    html = render("{% reltime when %} {% reltime never default='Never' %}", when=now, never=None)
    assert f'<time datetime="{now.isoformat()}"' in html and ">just now</time>" in html
    assert "Never" in html


def test_status_badge_maps_every_status_to_a_tone():
    assert 'class="badge badge-success"' in render('{% status_badge "completed" %}')
    assert 'class="badge badge-error"' in render('{% status_badge "failed" %}')
    assert 'class="badge badge-info"' in render('{% status_badge "running" %}')
    assert 'class="badge badge-warning"' in render('{% status_badge "paused" %}')
    assert ">In progress</span>" in render('{% status_badge "in_progress" %}')


def test_json_viewer_renders_a_coloured_tree_and_its_source():
    value = {"question": "hi", "n": 3, "ok": True, "none": None, "items": [1, {"deep": {"deeper": {"x": 1}}}]}
    html = render("{% json_viewer value label='Input' %}", value=value)
    assert '<span class="jv-key">"question"</span>' in html
    assert '<span class="jv-string">&quot;hi&quot;</span>' in html
    assert '<span class="jv-number">3</span>' in html
    assert '<span class="jv-bool">true</span>' in html
    assert '<span class="jv-null">null</span>' in html
    assert html.count("<details") == 5
    assert html.count('<details class="jv-node" open>') == 2  # deeper levels start collapsed
    source = re.search(r'<script type="application/json">(.*?)</script>', html, re.S).group(1)
    assert json.loads(source) == value


def test_json_viewer_escapes_everything():
    value = {"<img src=x onerror=alert(1)>": "</script><script>alert(2)</script>"}
    html = render("{% json_viewer value %}", value=value)
    assert "<img" not in html
    assert "<script>alert" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_json_viewer_empty_and_scalar_values():
    assert "No error" in render("{% json_viewer value empty='No error' %}", value=None)
    html = render("{% json_viewer value %}", value="plain text")
    assert '<span class="jv-string">&quot;plain text&quot;</span>' in html
    assert "data-json-expand" not in html


def test_json_viewer_elides_huge_values(monkeypatch):
    monkeypatch.setattr(ui, "JSON_MAX_NODES", 10)
    html = render("{% json_viewer value %}", value=list(range(100)))
    assert "too large to show in full" in html
    assert html.count('class="jv-number"') < 12


def test_highlight_colours_code_once_escaped():
    html = render('{% highlight "python" %}print("{{ who }}"){% endhighlight %}', who="<Ada & Bob>")
    assert '<span class="nb">print</span>' in html
    assert "&lt;Ada &amp; Bob&gt;" in html and "&amp;lt;" not in html
