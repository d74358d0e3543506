"""Required mentions per letter kind: a complete and an incomplete hand-written letter each."""

from __future__ import annotations

import pytest

from civique.tools.letters import mentions

COMPLETE = {
    "reply": (
        "Objet : votre demande de place en crèche\n\n"
        "Madame,\n\nEn réponse à votre courrier du 3 février 2027, nous avons le plaisir de vous "
        "proposer une place à la crèche des Tilleuls.\n\nLyon, le 12/03/2027\n\n"
        "La directrice de la petite enfance, Claire Martin"
    ),
    "acknowledgement": (
        "Accusé de réception\n\nVotre demande de permis de construire a été reçue le 12 mars "
        "2027 par le service urbanisme, 2 rue de la Mairie, 69001 Lyon, tél. 04 72 10 30 30.\n\n"
        "À défaut de réponse dans un délai de deux mois, votre demande sera réputée acceptée "
        "(décision implicite d'acceptation). En cas de refus, vous pourrez former un recours "
        "devant le tribunal administratif."
    ),
    "certificate": (
        "ATTESTATION DE DOMICILE\n\nLe maire de la commune de Vienne atteste que Mme Lucie "
        "Bernard, née le 4 mai 1990, demeure 5 place du Marché.\n\nFait à Vienne, le "
        "1er avril 2027.\n\nLe Maire, Paul Girard"
    ),
    "convocation": (
        "Madame, Monsieur,\n\nVous êtes convoqué à la réunion du conseil d'école le "
        "14 mai 2027 à 18 h 30, salle du conseil, hôtel de ville.\n\nOrdre du jour : "
        "budget des sorties scolaires."
    ),
    "missing_documents": (
        "Votre dossier est incomplet. Merci de nous envoyer les pièces suivantes :\n"
        "- un justificatif de domicile ;\n- une copie de votre pièce d'identité.\n\n"
        "Envoyez-les avant le 30/06/2027. À défaut, votre demande sera classée sans suite."
    ),
    "refusal": (
        "Madame,\n\nVotre demande de subvention est rejetée au motif que votre association "
        "n'a pas son siège dans la commune (article 2 du règlement des aides).\n\n"
        "Vous pouvez former un recours gracieux auprès du maire ou un recours contentieux "
        "devant le tribunal administratif de Lyon dans un délai de deux mois à compter de "
        "la notification de cette décision."
    ),
}

INCOMPLETE = {
    "reply": ("Madame,\n\nNous vous proposons une place à la crèche.", [
        "mention.subject", "mention.request", "mention.date", "mention.signatory"]),
    "acknowledgement": ("Nous avons bien reçu votre demande. Elle sera traitée au plus vite.", [
        "mention.date_of_receipt", "mention.service", "mention.contact",
        "mention.implicit_decision", "mention.remedies"]),
    "certificate": ("Le maire atteste que Mme Lucie Bernard habite la commune.\n\n"
                    "Elle y réside depuis 2019.\nCette attestation est valable trois mois.\n"
                    "Elle est délivrée à sa demande.", [
        "mention.date", "mention.place", "mention.signatory"]),
    "convocation": ("Vous êtes convoqué le 14 mai 2027 en mairie.", [
        "mention.time", "mention.agenda"]),
    "missing_documents": ("Votre dossier est incomplet : envoyez votre justificatif de domicile.", [
        "mention.documents", "mention.deadline", "mention.consequences"]),
    "refusal": ("Votre demande de subvention est rejetée. Vous pouvez former un recours.", [
        "mention.reasons", "mention.court", "mention.remedy_deadline"]),
}


@pytest.mark.parametrize("kind", sorted(COMPLETE))
def test_a_complete_letter_misses_nothing(kind: str) -> None:
    assert mentions.check(kind, COMPLETE[kind]) == []


@pytest.mark.parametrize("kind", sorted(INCOMPLETE))
def test_an_incomplete_letter_lists_exactly_what_is_missing(kind: str) -> None:
    text, missing = INCOMPLETE[kind]
    findings = mentions.check(kind, text)
    assert [f.code for f in findings] == missing
    assert {f.severity for f in findings} == {"error"}
    assert all(f.start is None and f.params == {"kind": kind} for f in findings)


def test_every_kind_is_tested() -> None:
    assert set(COMPLETE) == set(INCOMPLETE) == set(mentions.REQUIRED)


def test_swiss_refusal_with_voies_de_droit_and_30_days() -> None:
    text = (
        "La demande est rejetée en raison de l'absence de permis. Voies de droit : la présente "
        "décision peut faire l'objet d'un recours auprès de la Cour de droit administratif "
        "et public du Tribunal cantonal dans les 30 jours."
    )
    assert mentions.check("refusal", text) == []


def test_dates_and_times_in_french_formats() -> None:
    base = "Ordre du jour : budget. Salle 3. "
    for when in ("le 12 mars 2027 à 14h30", "le 12/03/2027 à 14 h 30", "le 1er mars 2027 à 9 h",
                 "le 2027-03-12 à 14:30", "LE 12 MARS 2027 À 14H30"):
        assert mentions.check("convocation", base + when) == [], when
    codes = [f.code for f in mentions.check("convocation", base + "le 12 mars à 14 heures")]
    assert codes == ["mention.date", "mention.time"]


def test_a_variable_value_in_the_text_counts_as_the_mention() -> None:
    text = "Objet : votre demande. Fait le 2 mars 2027. Claire Martin"
    assert [f.code for f in mentions.check("reply", text)] == ["mention.signatory"]
    assert mentions.check("reply", text, {"signatory": "Claire Martin"}) == []
    assert [f.code for f in mentions.check("reply", text, {"signatory": ""})] == [
        "mention.signatory"]


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown letter kind"):
        mentions.check("poem", "text")
