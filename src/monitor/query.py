"""The search query language, parsed into a small tree (pure: no warehouse here; warehouse/search.py runs it).

    word                 the word or another form of it (stemmed in each article's language: "election" finds
                         "elections")
    "exact phrase"       these words in this order
    prefix*              any word that begins so ("elect*": election, electoral, electricity)
    -word, NOT word      articles without it (also -"a phrase", -(a OR b))
    a OR b               either; AND (written or not) binds first, as in boolean algebra and Lucene:
                         `a b OR c` is `(a b) OR c`
    ( ... )              grouping
    field:value          a filter on the whole query: source, language, country (mentioned), about (focus country),
                         region, topic (IPTC code or label); quote values with spaces: topic:"crime, law and justice"

Operators OR, AND and NOT are written in capitals; in lower case they are words. A word of several parts
("covid-19", "U.S.") is the phrase of its parts, since the index keeps letters and digits only.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

FIELDS = ("source", "language", "country", "about", "region", "topic")
# Longest query we parse: a pasted paragraph is a mistake, and each term costs a scan of the index.
MAX_TERMS = 64
_TOKEN = re.compile(r'\s*(?:(?P<open>-?\()|(?P<close>\))|(?P<phrase>-?"[^"]*"?)|'
                    r'(?P<field>(?:' + "|".join(FIELDS) + r'):(?:"[^"]*"?|[^\s()"]+))|(?P<word>[^\s()"]+))')


class QueryError(ValueError):
    """The query cannot be parsed or names something unknown; the message is one line naming the fix."""


@dataclass(frozen=True, slots=True)
class Term:
    word: str            # lower case, letters and digits only
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class Phrase:
    words: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Not:
    node: "Node"


@dataclass(frozen=True, slots=True)
class And:
    nodes: tuple["Node", ...]


@dataclass(frozen=True, slots=True)
class Or:
    nodes: tuple["Node", ...]


@dataclass(frozen=True, slots=True)
class Everything:
    """The empty query: every article (that the filters keep)."""


Node = Term | Phrase | Not | And | Or | Everything


@dataclass(frozen=True, slots=True)
class Query:
    root: Node
    fields: tuple[tuple[str, str], ...] = ()  # (field, value) filters written in the query


def words(text: str) -> list[str]:
    """The words of `text` as the index keeps them: runs of letters, digits and combining marks, lower case."""
    out, current = [], []
    for ch in text.lower():
        if unicodedata.category(ch)[0] in "LNM":
            current.append(ch)
        elif current:
            out.append("".join(current))
            current = []
    if current:
        out.append("".join(current))
    return out


def _leaf(text: str, quoted: bool) -> Node | None:
    prefix = not quoted and text.endswith("*")
    parts = words(text)
    if not parts:
        return None
    if len(parts) == 1 and not quoted:
        return Term(parts[0], prefix)
    if prefix and not quoted:  # "covid-1*": the phrase of the first parts, then a prefix
        return And((Phrase(tuple(parts)), Term(parts[-1], True)))
    return Phrase(tuple(parts)) if len(parts) > 1 else Term(parts[0])


class _Parser:
    def __init__(self, query: str):
        self.query = query
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(query):
            m = _TOKEN.match(query, pos)
            if not m or m.end() == pos:
                break
            pos = m.end()
            kind = m.lastgroup
            if kind is None:
                continue
            self.tokens.append((kind, m.group(kind)))
        self.pos = 0
        self.fields: list[tuple[str, str]] = []
        self.terms = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def parse(self) -> Query:
        if not self.tokens:
            return Query(Everything())
        root = self.or_expr(depth=0)
        if self.peek() is not None:
            raise QueryError(f"unbalanced ')' in {self.query!r}: remove it or add the '(' it closes")
        if root is None:
            if not self.fields:
                raise QueryError(f"nothing to search for in {self.query!r}: give words, a \"quoted phrase\" or "
                                 "field:value filters")
            root = Everything()
        if self.terms > MAX_TERMS:
            raise QueryError(f"the query has {self.terms} terms, more than {MAX_TERMS}: shorten it")
        return Query(root, tuple(self.fields))

    def or_expr(self, depth: int) -> Node | None:
        nodes = [self.and_expr(depth)]
        while self.peek() == ("word", "OR"):
            self.pos += 1
            nodes.append(self.and_expr(depth))
            if nodes[-1] is None:
                raise QueryError(f"OR needs a term on each side in {self.query!r}")
        if nodes[0] is None and len(nodes) > 1:
            raise QueryError(f"OR needs a term on each side in {self.query!r}")
        return nodes[0] if len(nodes) == 1 else Or(tuple(nodes))

    def and_expr(self, depth: int) -> Node | None:
        nodes = []
        while (token := self.peek()) is not None and token != ("word", "OR") and token[0] != "close":
            if token == ("word", "AND"):
                self.pos += 1
                continue
            node = self.unary(depth)
            if node is not None:
                nodes.append(node)
        if not nodes:
            return None
        return nodes[0] if len(nodes) == 1 else And(tuple(nodes))

    def unary(self, depth: int) -> Node | None:
        kind, text = self.tokens[self.pos]
        if (kind, text) == ("word", "NOT"):
            self.pos += 1
            if self.peek() is None or self.peek()[0] == "close" or self.peek() == ("word", "OR"):
                raise QueryError(f"NOT needs a term after it in {self.query!r}")
            inner = self.unary(depth)
            return Not(inner) if inner is not None else None
        self.pos += 1
        if kind == "open":
            inner = self.or_expr(depth + 1)
            if self.peek() is None:
                raise QueryError(f"unbalanced '(' in {self.query!r}: add the ')' that closes it")
            self.pos += 1
            if inner is None:
                return None
            return Not(inner) if text.startswith("-") else inner
        if kind == "field":
            name, _, value = text.partition(":")
            value = value.strip('"').strip()
            if depth or self.tokens[self.pos - 2:self.pos - 1] == [("word", "NOT")]:
                raise QueryError(f"{text} filters the whole query: put it outside parentheses and NOT")
            if not value:
                raise QueryError(f"{name}: needs a value, for example {name}:{_EXAMPLES[name]}")
            self.fields.append((name, value))
            return None
        negated = text.startswith("-") and len(text) > 1
        body = text[1:] if negated else text
        quoted = kind == "phrase"
        if quoted:
            if not body.endswith('"') or len(body) < 2:
                raise QueryError(f"unclosed quote in {self.query!r}: add the closing \"")
            body = body[1:-1]
        node = _leaf(body, quoted)
        if node is None:
            return None
        self.terms += len(node.words) if isinstance(node, Phrase) else 1
        return Not(node) if negated else node


_EXAMPLES = {"source": "reuters", "language": "de", "country": "Germany", "about": "UA", "region": "Europe",
             "topic": "crime"}


def parse(query: str) -> Query:
    """The query as a tree of terms, phrases and operators, plus the field filters written in it. Raises
    QueryError with a one-line reason."""
    return _Parser(query).parse()


def positives(node: Node) -> list[Term | Phrase]:
    """The terms and phrases that can make an article match (not those under NOT), in query order."""
    if isinstance(node, Term | Phrase):
        return [node]
    if isinstance(node, And | Or):
        return [leaf for child in node.nodes for leaf in positives(child)]
    return []


def leaves(node: Node) -> list[Term | Phrase]:
    """Every term and phrase, negated or not, once each, in query order."""
    found: list[Term | Phrase] = []

    def walk(n: Node) -> None:
        if isinstance(n, Term | Phrase):
            if n not in found:
                found.append(n)
        elif isinstance(n, Not):
            walk(n.node)
        elif isinstance(n, And | Or):
            for child in n.nodes:
                walk(child)
    walk(node)
    return found


def evaluate(node: Node, present: set[Term | Phrase] | frozenset) -> bool:
    """Whether an article holding exactly the leaves in `present` matches."""
    if isinstance(node, Everything):
        return True
    if isinstance(node, Term | Phrase):
        return node in present
    if isinstance(node, Not):
        return not evaluate(node.node, present)
    if isinstance(node, And):
        return all(evaluate(n, present) for n in node.nodes)
    return any(evaluate(n, present) for n in node.nodes)
