"""Columns of the deposit CSV format, with their French names."""

from __future__ import annotations

CIVILITE = "Civilité"
PRENOM = "Prénom"
NOM = "Nom"
EMAIL = "Email"
TELEPHONE_FIXE = "Téléphone Fixe"
MOBILE = "Mobile"
FAX = "Fax"
ADRESSE_1 = "Adresse 1"
ADRESSE_2 = "Adresse 2"
CODE_POSTAL = "Code postal"
VILLE = "Ville"
ETAT = "Etat"
PAYS = "Pays"
DATE_DE_NAISSANCE = "Date de naissance"
SOCIETE = "Société"
REFERENCE = "Référence"
DISPATCH = "dispatch"

# Identifiers used by the extended deduplication criterion. The published
# column list does not name them.
# NOTE: these two names are this project's choice, not Digitaleo's.
FACEBOOK_ID = "Facebook ID"
TWITTER_ID = "Twitter ID"

# The known columns, in the order the published format lists them.
STANDARD_COLUMNS: tuple[str, ...] = (
    CIVILITE,
    PRENOM,
    NOM,
    EMAIL,
    TELEPHONE_FIXE,
    MOBILE,
    FAX,
    ADRESSE_1,
    ADRESSE_2,
    CODE_POSTAL,
    VILLE,
    ETAT,
    PAYS,
    DATE_DE_NAISSANCE,
    SOCIETE,
    REFERENCE,
)

# At least one of these must be a column of every deposited file.
MEANS_OF_CONTACT: tuple[str, ...] = (EMAIL, TELEPHONE_FIXE, MOBILE)

# Number of custom fields an account has unless it renames them.
DEFAULT_CUSTOM_FIELD_COUNT = 10


def custom_field_name(index: int) -> str:
    """Return the default name of custom field `index`, counted from 1."""
    return f"Champ {index}"
