"""Okapi BM25 over small documents, in plain Python.

Fields are weighted by repetition (a name word counts three times, a description word once), the
usual poor man's BM25F. ``relative`` scores a document against the most a query could score, so
scores of different queries are comparable and fall in [0, 1].
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence


class BM25:
    """An inverted index over documents given as lists of terms, searched with ``search``."""

    def __init__(self, documents: Sequence[Iterable[str]], k1: float = 1.2, b: float = 0.75):
        self.k1, self.b = k1, b
        self._lengths: list[int] = []
        self._postings: dict[str, list[tuple[int, int]]] = {}
        for number, terms in enumerate(documents):
            counts = Counter(terms)
            self._lengths.append(sum(counts.values()))
            for term, frequency in counts.items():
                self._postings.setdefault(term, []).append((number, frequency))
        self.size = len(self._lengths)
        self._average = (sum(self._lengths) / self.size) if self.size else 0.0

    def __contains__(self, term: str) -> bool:
        return term in self._postings

    def idf(self, term: str) -> float:
        """Inverse document frequency (the +1 form, never negative); a term no document has
        gets the highest value, as if exactly none matched."""
        df = len(self._postings.get(term, ()))
        return math.log(1 + (self.size - df + 0.5) / (df + 0.5))

    def scores(self, query: Iterable[str]) -> dict[int, float]:
        """Raw BM25 score of every document that shares a term with ``query``."""
        result: dict[int, float] = {}
        for term in set(query):
            postings = self._postings.get(term)
            if not postings:
                continue
            idf = self.idf(term)
            for number, frequency in postings:
                norm = 1 - self.b + self.b * self._lengths[number] / (self._average or 1)
                gain = idf * frequency * (self.k1 + 1) / (frequency + self.k1 * norm)
                result[number] = result.get(number, 0.0) + gain
        return result

    def ceiling(self, query: Iterable[str]) -> float:
        """What a document holding every query term many times would score: the sum of the
        terms' idf times (k1 + 1). Unknown terms count, so a query about something the index
        has never seen stays far from 1."""
        return sum(self.idf(term) * (self.k1 + 1) for term in set(query))

    def coverage(self, query: Iterable[str]) -> dict[int, float]:
        """For each document sharing a term with ``query``: the idf-weighted share of the
        query's terms it contains, in [0, 1] (unknown terms weigh the most)."""
        terms = set(query)
        total = sum(self.idf(term) for term in terms)
        result: dict[int, float] = {}
        if total <= 0:
            return result
        for term in terms:
            weight = self.idf(term) / total
            for number, _ in self._postings.get(term, ()):
                result[number] = result.get(number, 0.0) + weight
        return {number: min(1.0, share) for number, share in result.items()}

    def relative(self, query: Sequence[str]) -> dict[int, float]:
        """``scores`` divided by ``ceiling``: each in [0, 1]."""
        top = self.ceiling(query)
        if top <= 0:
            return {}
        return {number: min(1.0, score / top) for number, score in self.scores(query).items()}
