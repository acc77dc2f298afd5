"""Full-text search over runs and their steps, the same on PostgreSQL and SQLite.

Text is cut into words here, in Python, once for both databases, so a query finds the same runs on
either: words are runs of letters and digits, case-folded (NFKC first); Chinese and Japanese, written
without spaces, are cut into overlapping pairs of characters ("退款申请" is 退款 款申 申请), so any
word of two or more characters is a phrase of pairs. The write path stores each run's and step's
words in its `search` column (apps.runs.models.SearchField): on PostgreSQL a `tsvector` with the
words' positions (built here, never by PostgreSQL's parser) under a GIN index; on SQLite the words as
text, which an FTS5 table mirrors by triggers (migration 0005).

A query is words (all must be in one run or one step), "exact phrases" and `prefix*` words.
"""

import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db import connection

from apps.core.errors import ApplicationError

MAX_WORDS = 16_000  # per run or step: PostgreSQL keeps positions up to 16,383
MAX_WORD_CHARS = 100  # longer "words" are blobs (base64, hashes): left out
MAX_POSITIONS = 255  # PostgreSQL keeps at most 256 positions of one word
MAX_QUERY_CHARS = 500
SNIPPET_CHARS = 180

_WORD = re.compile(r"[^\W_]+")
# Scripts written without spaces between words: Han (CJK ideographs and their extensions), kana.
_UNSPACED = re.compile(r"([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+)")
_QUERY_PART = re.compile(r'"([^"]*)("|$)(\*?)|([^\s"]+)')


def _units(text: str) -> Iterator[tuple[str, int, int]]:
    """(word, start, end) of each indexed word of `text`, spans in `text` itself."""
    for match in _WORD.finditer(text):
        start = match.start()
        for position, piece in enumerate(_UNSPACED.split(match.group())):
            if position % 2:  # unspaced script: pairs of characters (a lone one stays itself)
                if len(piece) == 1:
                    yield piece, start, start + 1
                for i in range(len(piece) - 1):
                    yield piece[i : i + 2], start + i, start + i + 2
            elif piece and len(piece) <= MAX_WORD_CHARS:
                yield unicodedata.normalize("NFKC", piece).casefold(), start, start + len(piece)
            start += len(piece)


def words(text: str) -> list[str]:
    """The indexed words of `text` (what `_units` finds, without their places: the write path's fast way)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if not _UNSPACED.search(text):
        return [word for word in _WORD.findall(text) if len(word) <= MAX_WORD_CHARS]
    found = []
    for word in _WORD.findall(text):
        if not _UNSPACED.search(word):
            if len(word) <= MAX_WORD_CHARS:
                found.append(word)
            continue
        for position, piece in enumerate(_UNSPACED.split(word)):
            if position % 2:
                found.extend([piece] if len(piece) == 1 else [piece[i : i + 2] for i in range(len(piece) - 1)])
            elif piece and len(piece) <= MAX_WORD_CHARS:
                found.append(piece)
    return found


def texts_of(value) -> Iterator[str]:
    """The strings and numbers of a JSON value, depth first (keys are structure, not content)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from texts_of(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from texts_of(item)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield str(value)


def document_text(values: Iterable) -> str:
    """The searchable text of a run or step: its fields' strings in order, one per line."""
    return "\n".join(text for value in values for text in texts_of(value))


def document(values: Iterable) -> str | None:
    """What the `search` column stores for a run or step with these field values (name, input,
    output, error): its words, space-separated (SearchField turns them into a tsvector on PostgreSQL)."""
    found = words(document_text(values))[:MAX_WORDS]
    return SearchWords(" ".join(found)) if found else None


class SearchWords(str):
    """Words as the write path computed them (not a value read back from the database)."""


def tsvector_literal(text: str) -> str:
    """`'word':1,5 'other':2`: positions kept so phrases match; words hold only letters and digits,
    so no quoting is needed."""
    positions: dict[str, list[str]] = defaultdict(list)
    for position, word in enumerate(text.split(), start=1):
        positions[word].append(str(position))
    return " ".join(f"'{word}':{','.join(places[:MAX_POSITIONS])}" for word, places in positions.items())


# Queries -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clause:
    """Words that must stand in this order (one word: anywhere); `prefix`: the last may go on."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class SearchQuery:
    text: str
    clauses: tuple[Clause, ...]

    def tsquery(self) -> str:
        parts = []
        for clause in self.clauses:
            terms = [f"'{word}'" for word in clause.words]
            if clause.prefix:
                terms[-1] += ":*"
            parts.append(terms[0] if len(terms) == 1 else "(" + " <-> ".join(terms) + ")")
        return " & ".join(parts)

    def fts5(self) -> str:
        return " AND ".join(f'"{" ".join(clause.words)}"' + ("*" if clause.prefix else "") for clause in self.clauses)

    def matches(self, found: list[str]) -> list[tuple[int, int]]:
        """(first, last) word positions in `found` where a clause matches: what a snippet marks."""
        hits = []
        for clause in self.clauses:
            size = len(clause.words)
            for i in range(len(found) - size + 1):
                if all(found[i + k] == word for k, word in enumerate(clause.words[:-1])) and (
                    found[i + size - 1].startswith(clause.words[-1])
                    if clause.prefix
                    else found[i + size - 1] == clause.words[-1]
                ):
                    hits.append((i, i + size - 1))
        return hits


def search_query_parse(text: str) -> SearchQuery:
    """Words, "phrases" (an unclosed quote runs to the end) and `prefix*`; raises ApplicationError
    (a 400 in the API) for a query with nothing to search for, a NUL, or one too long."""
    if "\x00" in text:
        raise _bad("A search can't contain a NUL character.")
    if len(text) > MAX_QUERY_CHARS:
        raise _bad(f"A search is at most {MAX_QUERY_CHARS} characters.")
    clauses = []
    for phrase, _, phrase_star, bare in _QUERY_PART.findall(text):
        source, star = (phrase, phrase_star) if not bare else (bare.rstrip("*"), "*" if bare.endswith("*") else "")
        found = words(source)
        if found:
            clauses.append(Clause(tuple(found), prefix=bool(star)))
    if not clauses:
        raise _bad("Type a word to search for: a * goes after the start of a word, as in refund*.")
    return SearchQuery(text=text, clauses=tuple(clauses))


def _bad(message: str) -> ApplicationError:
    return ApplicationError(message, errors={"q": [message]}, status=400)


# SQL: the rows a query matches, on each vendor ------------------------------------------------------


def match_sql(table: str, query: SearchQuery) -> tuple[str, list]:
    """A condition on `table` (runs or run_steps, unaliased) true for the rows that match."""
    if connection.vendor == "postgresql":
        return f'"{table}"."search" @@ CAST(%s AS tsquery)', [query.tsquery()]
    return f'"{table}".rowid IN (SELECT rowid FROM "{table}_search" WHERE "{table}_search" MATCH %s)', [query.fts5()]


def matching_run_ids_sql(query: SearchQuery) -> tuple[str, list]:
    """The ids of the runs that match themselves or by a step (any project: the caller scopes)."""
    runs, run_params = match_sql("runs", query)
    steps, step_params = match_sql("run_steps", query)
    sql = f'SELECT "runs"."id" FROM "runs" WHERE {runs} UNION ALL SELECT "run_steps"."run_id" FROM "run_steps" WHERE {steps}'
    return sql, run_params + step_params


# A query matching many steps is answered by walking the runs newest first and checking each (a page
# fills after about 50 x steps / matches checks); one matching few, from the index (reading each match:
# a walk would read every run). Which is cheaper, PostgreSQL's own estimate of the matches says (its
# statistics keep the most common words): a walk when the matches outnumber sqrt(WALK_COST x steps).
WALK_COST = 150
MIN_COMMON = 5_000


def is_common(query: SearchQuery) -> bool:
    if connection.vendor != "postgresql":
        return False  # SQLite's FTS5 answers both from its index
    # One plan, four estimates: the runs and the steps that match, and all of each (a run matches by
    # itself, e.g. by its agent's name, or by a step).
    sql = " UNION ALL ".join(
        [f"SELECT 1 FROM {table} WHERE search @@ CAST(%s AS tsquery)" for table in ("runs", "run_steps")]
        + [f"SELECT 1 FROM {table}" for table in ("runs", "run_steps")]
    )
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", [query.tsquery()] * 2)
        plan = cursor.fetchone()[0]
    plan = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
    runs, steps, all_runs, all_steps = (part["Plan Rows"] for part in plan["Plans"])
    return runs + steps > max(MIN_COMMON, (WALK_COST * (all_runs + all_steps)) ** 0.5)


# Snippets ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snippet:
    parts: tuple[tuple[str, bool], ...]  # (text, is a hit), in order

    @property
    def text(self) -> str:
        return "".join(text for text, _ in self.parts)


def snippet(values: Iterable, query: SearchQuery) -> Snippet | None:
    """A short piece of the text around the first hit, with every hit in it marked."""
    text = document_text(values)
    units = list(_units(text))[:MAX_WORDS]
    hits = query.matches([word for word, _, _ in units])
    if not hits:
        return None
    spans = sorted((units[first][1], units[last][2]) for first, last in hits)
    begin = max(0, spans[0][0] - SNIPPET_CHARS // 3)
    end = min(len(text), begin + SNIPPET_CHARS)
    parts, at = [], begin
    for start, stop in spans:
        if start >= end:
            break
        start = max(start, at)
        if stop <= start:
            continue
        if start > at:
            parts.append((text[at:start], False))
        parts.append((text[start : min(stop, end)], True))
        at = min(stop, end)
    if at < end:
        parts.append((text[at:end], False))
    parts = [(" ".join(piece.split("\n")), hit) for piece, hit in parts]
    if begin > 0:
        parts.insert(0, ("…", False))
    if end < len(text):
        parts.append(("…", False))
    return Snippet(tuple(parts))
