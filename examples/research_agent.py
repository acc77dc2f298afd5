"""A deterministic research assistant instrumented with the AgentScope SDK.

It answers questions about the Solar System from a small bundled corpus (examples/corpus/*.txt).
The "LLM" is rule-based, so every run is reproducible and needs no API key from a model vendor, but
it answers in OpenAI's chat-completion shape with token usage, as a real one would. The tools are
real: a TF-IDF search over the corpus, a document reader and a calculator that parses arithmetic
with `ast` (never `eval`).

    AGENTSCOPE_API_KEY=as_... python examples/research_agent.py --runs 12

sends a dozen varied runs from three agents: answers found by search, arithmetic, a tool that fails
and the agent recovers, a tool that times out once and is retried, a run that fails, nested steps,
and one long run of 500 steps.
"""

from __future__ import annotations

import argparse
import ast
import math
import operator
import os
import re
import sys
import time
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import agentscope_sdk as agentscope
from agentscope_sdk.client import Ping, ping

CORPUS_DIR = Path(__file__).with_name("corpus")
_STOPWORDS = (
    "a an and are as at be by does for from has have how in is it its of on or than that the their this to "
    "was what when which who why with about after all any many much most only so some very"
)
STOPWORDS = frozenset(_STOPWORDS.split())
WORD = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)?")
MATH = re.compile(r"[-+*/%().\d\s^]*\d[-+*/%().\d\s^]*[-+*/%^][-+*/%().\d\s^]*\d[-+*/%().\d\s^]*")


# The corpus and its tools -----------------------------------------------------------------------


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    text: str


def load_corpus() -> dict[str, Document]:
    documents = {}
    for path in sorted(CORPUS_DIR.glob("*.txt")):
        title, _, text = path.read_text(encoding="utf-8").partition("\n")
        documents[path.stem] = Document(path.stem, title.strip(), text.strip())
    return documents


def terms(text: str) -> list[str]:
    return [word for word in WORD.findall(text.lower()) if word not in STOPWORDS]


class Index:
    """TF-IDF over the corpus: score(d, q) = sum over query terms of tf(t, d) * idf(t)."""

    def __init__(self, documents: dict[str, Document]):
        self.documents = documents
        self.frequencies = {doc.id: Counter(terms(doc.title + " " + doc.text)) for doc in documents.values()}
        frequency = Counter(term for counts in self.frequencies.values() for term in counts)
        self.idf = {term: math.log(len(documents) / count) + 1 for term, count in frequency.items()}

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        wanted = terms(query)
        scores = {
            doc_id: sum(counts[term] * self.idf.get(term, 0.0) for term in wanted) / math.sqrt(sum(counts.values()))
            for doc_id, counts in self.frequencies.items()
        }
        ranked = sorted(((score, doc_id) for doc_id, score in scores.items() if score > 0), reverse=True)
        return [(doc_id, round(score, 3)) for score, doc_id in ranked[:k]]


CORPUS = load_corpus()
INDEX = Index(CORPUS)

_OPERATORS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}


def evaluate(node: ast.AST) -> float:
    if isinstance(node, ast.Expression):
        return evaluate(node.body)
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](evaluate(node.operand))
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = evaluate(node.left), evaluate(node.right)
        if isinstance(node.op, ast.Pow) and (abs(right) > 64 or abs(left) > 1e6):
            raise ValueError("exponent too large")
        return _OPERATORS[type(node.op)](left, right)
    raise ValueError(f"unsupported expression: {ast.dump(node)[:60]}")


@agentscope.tool_call
def calculator(expression: str) -> float:
    """Arithmetic only: numbers, + - * / // % ** and parentheses."""
    if len(expression) > 200:
        raise ValueError("expression too long")
    value = evaluate(ast.parse(expression.replace("^", "**"), mode="eval"))
    return round(value, 6) if isinstance(value, float) else value


@agentscope.tool_call
def read_document(doc_id: str) -> dict:
    document = CORPUS.get(doc_id)
    if document is None:
        raise KeyError(f"no document {doc_id!r} in the corpus")
    return {"id": document.id, "title": document.title, "text": document.text}


@agentscope.retrieval(name="search_corpus")
def search_corpus(query: str, k: int = 2) -> list[dict]:
    hits = INDEX.search(query, k)
    return [read_document(doc_id) | {"score": score} for doc_id, score in hits]


@agentscope.tool_call
def fetch_orbital_data(body: str, attempt: int) -> dict:
    """A remote almanac that times out on the first attempt (deterministically, for the demo)."""
    if attempt == 0:
        time.sleep(0.05)
        raise TimeoutError(f"almanac did not answer for {body!r} within 50 ms")
    return {"body": body, "source": "almanac", "documents": [doc_id for doc_id, _ in INDEX.search(body, 1)]}


# The "LLM" ---------------------------------------------------------------------------------------


def completion(content: str, prompt: str, model: str, cached: int = 0) -> dict:
    """An OpenAI-shaped chat completion; tokens are estimated at four characters each, the first
    `cached` of the prompt's read from the provider's prompt cache. The model names what a real agent
    would call, so the server prices the step (a model the price table doesn't know shows "no price"
    until the project gives it a price)."""
    prompt_tokens, completion_tokens = math.ceil(len(prompt) / 4), math.ceil(len(content) / 4)
    return {
        "id": f"chatcmpl-{zlib.crc32((prompt + content).encode()):08x}",
        "object": "chat.completion",
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": min(cached, prompt_tokens)},
        },
    }


def text_of(response: dict) -> str:
    return response["choices"][0]["message"]["content"]


@agentscope.llm_call(name="plan", provider="openai")
def plan(question: str) -> dict:
    """Decides on actions: arithmetic, a live lookup, a named document, or a corpus search."""
    time.sleep(0.01)
    if expression := MATH.search(question):
        action = f"calculate {expression.group().strip()}"
    elif match := re.search(r"document ([\w-]+)", question):
        action = f"read {match.group(1)}"
    elif "orbit" in question.lower() and (match := re.search(r"of ([A-Z]\w+)", question)):
        action = f"lookup {match.group(1)}"
    else:
        action = f"search {' '.join(terms(question))}"
    return completion(action, prompt=f"Plan the next action for: {question}", model="gpt-4o-mini")


@agentscope.step(name="cite")
def cite(sources: list[dict]) -> list[str]:
    return [f"{source['title']} ({source['id']}.txt)" for source in sources]


@agentscope.llm_call(name="answer", provider="openai")
def answer(question: str, sources: list[dict]) -> dict:
    """Picks the sentence of the sources that shares the most terms with the question."""
    time.sleep(0.01)
    wanted = set(terms(question))
    sentences = [
        (len(wanted & set(terms(sentence))), -index, sentence)
        for index, source in enumerate(sources)
        for sentence in re.split(r"(?<=[.!?])\s+", source["text"])
    ]
    best = max(sentences, default=(0, 0, "I could not find that in the corpus."))[2]
    citations = cite(sources)
    reply = f"{best} [{'; '.join(citations)}]" if citations else best
    context = " ".join(source["text"] for source in sources)
    return completion(reply, prompt=f"Answer {question!r} from: {context}", model="gpt-4o", cached=64)


# The agents --------------------------------------------------------------------------------------


@agentscope.trace(name="research-assistant")
def research(question: str) -> str:
    """Plans, acts (search, read or a live lookup with one retry), then answers with citations."""
    action, _, argument = text_of(plan(question)).partition(" ")
    if action == "read":
        sources = [read_document(argument)]
    elif action == "lookup":
        sources = lookup_with_retry(argument)
    else:
        sources = search_corpus(argument)
    return text_of(answer(question, sources))


@agentscope.step(name="lookup")
def lookup_with_retry(body: str) -> list[dict]:
    for attempt in range(3):
        try:
            data = fetch_orbital_data(body, attempt)
        except TimeoutError:
            continue
        return [read_document(doc_id) for doc_id in data["documents"]]
    raise TimeoutError("almanac unreachable")


@agentscope.trace(name="math-tutor")
def tutor(question: str) -> str:
    """Computes the expression in the question; explains a failure instead of crashing."""
    action, _, expression = text_of(plan(question)).partition(" ")
    if action != "calculate":
        return "I only do arithmetic."
    try:
        result = calculator(expression)
    except (ArithmeticError, ValueError) as error:
        return text_of(explain(question, f"I cannot compute {expression}: {error}."))
    return text_of(explain(question, f"{expression} = {result}"))


@agentscope.llm_call(name="explain")
def explain(question: str, finding: str) -> dict:
    time.sleep(0.005)
    # A fine-tuned tutor model: no public price, until the project adds its own (Settings, Prices).
    return completion(finding, prompt=f"Explain to a student asking {question!r}: {finding}", model="scope-tutor-1")


@agentscope.tool_call
def index_term(doc_id: str, term: str, count: int) -> dict:
    return {"doc": doc_id, "term": term, "tf": count, "tf_idf": round(count * INDEX.idf[term], 4)}


@agentscope.trace(name="corpus-indexer")
def index_corpus(steps: int) -> dict:
    """A long run: one tool call per (document, term) until `steps` have been made."""
    pairs = [(doc_id, term, count) for doc_id, counts in INDEX.frequencies.items() for term, count in counts.items()]
    done = [index_term(doc_id, term, count) for doc_id, term, count in (pairs * (steps // len(pairs) + 1))[:steps]]
    return {"terms_indexed": len(done), "unique_terms": len({row["term"] for row in done})}


AGENT_NAMES = {research: "research-assistant", tutor: "math-tutor", index_corpus: "corpus-indexer"}
SCENARIOS = [
    (research, "Which planet is the largest in the Solar System?"),
    (tutor, "What is 365.25 * 24?"),
    (research, "Why is Mars red?"),
    (research, "What is the orbit of Neptune like?"),
    (tutor, "What is 10 / 0?"),
    (research, "What are the rings of Saturn made of?"),
    (research, "Summarise document planet-x for me."),
    (index_corpus, 500),
    (tutor, "What is (17 + 25) ** 2?"),
    (research, "How long is a day on Venus?"),
    (research, "Who discovered Pluto?"),
    (tutor, "How far is 30 * 149.6 million km? Compute 30 * 149.6"),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=12, help="how many runs to send (the scenarios repeat)")
    parser.add_argument("--base-url", default=os.environ.get("AGENTSCOPE_BASE_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--api-key", default=os.environ.get("AGENTSCOPE_API_KEY"))
    args = parser.parse_args(argv)
    problem = what_to_do(args.base_url.rstrip("/"), ping(args.base_url, args.api_key))
    if problem:
        print(problem, file=sys.stderr)
        return 2
    client = agentscope.configure(api_key=args.api_key, base_url=args.base_url)
    print(f"Sending {args.runs} runs to {client.base_url}")
    for number in range(args.runs):
        agent, question = SCENARIOS[number % len(SCENARIOS)]
        started = time.perf_counter()
        try:
            outcome, status = agent(question), "completed"
        except Exception as error:
            outcome, status = f"{type(error).__name__}: {error}", "failed"
        took = (time.perf_counter() - started) * 1000
        print(
            f"[{number + 1:2}] {AGENT_NAMES[agent]:<18} {status:<9} {took:6.0f} ms  {question} -> {str(outcome)[:90]}"
        )
    client.close(timeout=30)
    print(client.summary())
    stats = client.stats()
    if stats["failed"] or stats["dropped"] or stats["queued"]:
        print("Some runs are missing or incomplete on the server; see the warnings above.", file=sys.stderr)
        return 1
    print(f"Open {client.base_url}/runs to see them.")
    return 0


def what_to_do(base_url: str, found: Ping) -> str | None:
    """What to tell a person whose server or key isn't ready, in words they can act on."""
    address = urlsplit(base_url)
    port = address.port or (443 if address.scheme == "https" else 80)
    if address.hostname in ("127.0.0.1", "localhost", "::1"):
        start, demo = f"Start it with `make run PORT={port}`", f"AGENTSCOPE_API_KEY=as_... make demo PORT={port}"
    else:
        start, demo = "Check that it is up", "AGENTSCOPE_API_KEY=as_... make demo"
    create = f"Create a key at {base_url}/settings (API keys), then run:\n    {demo}"
    if found.problem == "unreachable":
        return (
            f"No server answers at {base_url} ({found.detail}).\n{start}, or set AGENTSCOPE_BASE_URL to where it runs."
        )
    if found.problem == "unhealthy":
        return f"The server at {base_url} is not ready: {found.detail}\nIs it AgentScope? {start}."
    if found.problem == "no_key":
        return f"No API key: set AGENTSCOPE_API_KEY (or pass --api-key).\n{create}"
    if found.problem == "key_refused":
        return f"The server at {base_url} refused the API key ({found.detail}).\n{create}"
    return None


if __name__ == "__main__":
    sys.exit(main())
