"""French texts of the demo's past challenge: staff names, teams' themes and experiments."""

from __future__ import annotations

CHALLENGE_TITLE = "Défi IA 2026 — Commune d'Exemple"
CHALLENGE_DESCRIPTION = (
    "Défi d'innovation ouvert à tout le personnel (**données de démonstration**) : une "
    "sensibilisation en ligne, puis dix semaines d'exploration en équipes sur les irritants du "
    "quotidien, et une vitrine des résultats. Chaque équipe a suivi les cinq étapes : hypothèses, "
    "tests, preuves, enseignements, décision."
)
UNITS = (
    "État civil",
    "Urbanisme",
    "Direction générale",
    "Finances",
    "Ressources humaines",
    "Accueil et population",
    "Services techniques",
)
FIRST_NAMES = (
    "Camille", "Julien", "Sophie", "Thomas", "Léa", "Nicolas", "Manon", "Antoine", "Chloé",
    "Maxime", "Sarah", "Hugo", "Émilie", "Lucas", "Laura", "Romain", "Pauline", "Mathieu",
    "Clara", "Alexandre", "Inès", "Quentin", "Marion", "Baptiste", "Océane", "Florian", "Lucie",
    "Kevin", "Justine", "Damien", "Élodie", "Yann", "Margaux", "Cédric", "Anaïs", "Loïc",
    "Noémie", "Sébastien", "Aurélie", "Fabien", "Héloïse", "Grégoire",
)  # fmt: skip
LAST_NAMES = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
    "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert", "Bonnet",
    "François", "Martinez", "Legrand", "Garnier", "Faure", "Rousseau", "Blanc", "Guérin",
    "Muller", "Henry", "Roussel", "Nicolas", "Perrin", "Morin", "Mathieu",
)  # fmt: skip
# (team theme, irritant, who suffers it, tool used)
THEMES = (
    ("Courriers d'état civil", "Les réponses aux demandes d'actes sont rédigées une à une.",
     "Les agents de l'état civil", "letters"),
    ("Urbanisme en clair", "Les arrêtés d'urbanisme sont incompréhensibles pour les habitants.",
     "Les demandeurs de permis et l'accueil", "plain_language"),
    ("Comptes rendus express", "Les comptes rendus de réunion prennent une demi-journée.",
     "Les assistantes de direction", "chat"),
    ("Relances fournisseurs", "Les relances de factures impayées sont tapées à la main.",
     "Le service des finances", "letters"),
    ("FAQ de l'accueil", "Les mêmes questions reviennent chaque jour au guichet.",
     "Les agents d'accueil", "chat"),
    ("Délibérations pas à pas", "Les projets de délibération oublient des mentions obligatoires.",
     "Le secrétariat général", "deliberation"),
    ("Accueil multilingue", "Les usagers non francophones repartent sans réponse.",
     "L'accueil et la population", "translation"),
    ("Offres d'emploi lisibles", "Les offres d'emploi attirent peu de candidatures.",
     "Les ressources humaines", "plain_language"),
    ("Notes de synthèse", "Les notes au maire reprennent des dossiers de cinquante pages.",
     "La direction générale", "chat"),
    ("Signalements voirie", "Les signalements de voirie arrivent mal décrits.",
     "Les services techniques", "chat"),
)  # fmt: skip
TEAM_SUFFIXES = ("", " II", " III")
PROTOCOL = (
    "Pendant trois semaines, chaque membre a traité la moitié des dossiers avec l'assistant et "
    "l'autre moitié sans, en notant le temps passé et les corrections faites."
)
TOOLS_PROMPTS = "Outil « {tool} » de Civique, modèle embarqué ; consigne : « {prompt} »."
PROMPTS = {
    "chat": "Résume ce document en dix lignes pour un élu, sans jargon.",
    "letters": "Rédige une réponse courtoise à cette demande, avec les pièces à fournir.",
    "plain_language": "Réécris ce texte en langage clair, phrases courtes.",
    "translation": "Traduis cette réponse en anglais en gardant les termes du glossaire.",
    "deliberation": "Vérifie les mentions obligatoires de ce projet de délibération.",
}
LEARNINGS = (
    "Le gain est réel sur les dossiers simples ; les cas particuliers demandent toujours une "
    "relecture attentive. Une bibliothèque de consignes partagée fait gagner du temps à tous."
)
RATIONALES = {
    "generalise": "Gain net et stable, relecture rapide : on étend à tout le service.",
    "extend": "Résultats encourageants mais trop peu de dossiers : on prolonge le test.",
    "stop": "Trop d'erreurs à corriger : le temps gagné est perdu en relecture.",
    "non_ai": "Un modèle de document et une check-list suffisent, sans IA.",
}
COMMENTS = (
    ("hypotheses", "Précisez la métrique : minutes par dossier, ou nombre de dossiers traités ?"),
    ("tests", "Pensez à lier les productions du registre utilisées pendant le test."),
    ("evidence", "Mesure avant/après bien documentée, bravo."),
    ("learnings", "Partagez la consigne qui marche avec les autres équipes."),
    ("decision", "Décision claire ; à présenter au comité de direction."),
)
IRRITANTS = (
    ("Saisie des demandes d'actes reçues par courriel", "État civil", 12, 400, 6.0, 5,
     "chosen"),
    ("Réponses aux questions récurrentes sur les permis", "Urbanisme", 20, 120, 10.0, 4,
     "chosen"),
    ("Rapprochement manuel des factures", "Finances", 8, 900, 3.5, 6, "non_ai"),
    ("Rédaction des comptes rendus de réunion", "Direction générale", 180, 12, 0.0, 8,
     "open"),
    ("Planification des entretiens annuels", "Ressources humaines", 30, 60, 2.0, 3,
     "dropped"),
    ("Tri des signalements de voirie", "Services techniques", 6, 700, 15.0, 7, "open"),
)  # fmt: skip
