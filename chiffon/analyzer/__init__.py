"""Analyzer: explains failed runs and proposes playbook fixes a person applies as a commit."""

from ._classify import FailureClass
from ._plans import PlanPostmortem, PlanReader, StepPostmortem
from ._rules import Category
from ._types import (
    Analysis,
    AnalyzerError,
    Diagnosed,
    DiagnosisView,
    SuggestionConflict,
    SuggestionNotFound,
    SuggestionStatus,
    SuggestionView,
)
from .events import RunDiagnosed, SuggestionAccepted
from .service import AnalyzerService, Explainer

__all__ = [
    "Analysis",
    "AnalyzerError",
    "AnalyzerService",
    "Category",
    "Diagnosed",
    "DiagnosisView",
    "Explainer",
    "FailureClass",
    "PlanPostmortem",
    "PlanReader",
    "RunDiagnosed",
    "StepPostmortem",
    "SuggestionAccepted",
    "SuggestionConflict",
    "SuggestionNotFound",
    "SuggestionStatus",
    "SuggestionView",
]
