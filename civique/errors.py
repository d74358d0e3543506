"""User-facing errors: a stable code, translated at the edge (page or API)."""

from __future__ import annotations

from typing import Any

from civique.i18n import gettext


def N_(message: str) -> str:
    """Mark a string for translation without translating it now (Babel extracts `N_`)."""
    return message


MESSAGES: dict[str, str] = {
    "empty": N_("The message is empty."),
    "too_long": N_("The text is too long: %(length)s characters, the limit is %(limit)s."),
    "control_chars": N_("The text contains invisible control characters; remove them and retry."),
    "invalid_utf8": N_("The request is not valid UTF-8 text."),
    "invalid_json": N_("The request body is not valid JSON."),
    "not_found": N_("This item does not exist or you may not see it."),
    "forbidden": N_("You are not allowed to do this."),
    "unknown_model": N_("This model does not exist."),
    "model_not_allowed": N_("Your organisation does not allow you to use this model."),
    "wrong_kind": N_("This model cannot be used for this kind of request."),
    "classification": N_("This model is not cleared for data of this classification."),
    "unavailable": N_("The model server is not answering. Your message is kept: try again."),
    "timeout": N_("The model server took too long to answer. Your message is kept: try again."),
    "busy": N_("The model is busy with too many requests. Your message is kept: try again."),
    "upstream": N_("The model server returned an error. Your message is kept: try again."),
    "bad_request": N_("The model server refused the request."),
    "no_model": N_("No model is available for your role; ask your administrator."),
    "login_failed": N_("Wrong e-mail address or password."),
    "login_throttled": N_("Too many failed attempts. Wait %(minutes)s minutes and retry."),
    "csrf": N_("The form has expired. Reload the page and try again."),
    "password_short": N_("The password must have at least %(limit)s characters."),
    "password_mismatch": N_("The two passwords differ."),
    "link_invalid": N_("This link is invalid, already used or expired."),
    "email_invalid": N_("This e-mail address is not valid."),
    "email_taken": N_("An account with this e-mail address already exists."),
    "name_required": N_("A name is required."),
    "name_taken": N_("This name is already used."),
    "role_invalid": N_("Unknown role."),
    "slug_invalid": N_("The identifier may use lower-case letters, digits and dashes only."),
    "colour_invalid": N_("The colour must be written like #1d4f91."),
    "logo_invalid": N_("The logo must be a PNG, JPEG or WebP image of at most %(limit)s bytes."),
    "last_admin": N_("The organisation would have no active administrator left."),
    "self_change": N_("You cannot deactivate yourself or change your own role."),
    "oidc_failed": N_("Single sign-on failed: %(reason)s"),
    "oidc_no_org": N_("Your account is not linked to any organisation of this instance."),
    "account_inactive": N_("This account is deactivated."),
    "token_name": N_("Give the token a name (1 to 100 characters)."),
    "register_bad_status": N_("Unknown validation status."),
    "register_bad_format": N_("The register can be exported as CSV or JSON only."),
    "register_export_too_big": N_(
        "The export would hold %(count)s entries, the limit is %(limit)s: narrow the filters "
        "(for example by date)."
    ),
    "audit_bad_action": N_("Unknown action."),
    "subject_length": N_("Give a name or an identifier of %(low)s to %(high)s characters."),
    "erasure_reference": N_("Give the reference of the request (1 to 100 characters)."),
    "erasure_legal_hold": N_(
        "A legal hold is in force for the organisation: nothing can be erased until it is lifted."
    ),
    "validation_required": N_(
        "This output must be approved by a validator before it leaves Civique: submit it for "
        "validation, then export it once approved."
    ),
    "validation_own": N_(
        "You cannot approve or reject your own output: another validator must decide."
    ),
    "validation_other_unit": N_("This output belongs to another unit: its validators decide."),
    "validation_bad_decision": N_("The decision must be approve or reject."),
    "validation_not_pending": N_("This output is not awaiting validation."),
    "validation_comment_required": N_("Say why you reject the output: a comment is required."),
    "validation_edit_pending": N_(
        "The output is awaiting validation: it cannot be changed until a validator decides."
    ),
    "validation_edit_approved": N_(
        "The output was approved as it is: its final text cannot be changed any more."
    ),
    "validation_already_pending": N_("The output is already awaiting validation."),
    "validation_already_approved": N_("The output is already approved."),
    "validation_api_chat": N_(
        "Your organisation requires a validator's approval for this tool's outputs, so chat "
        "completions through the API are off: use the Civique pages."
    ),
    "export_bad_format": N_("An output can be exported as DOCX, ODT or PDF only."),
    # The Lab: feedback, irritants, dashboards (civique/lab/).
    "lab_feedback_helped_required": N_(
        "Say first whether the output helped you (thumbs up or down)."
    ),
    "lab_feedback_bad_helped": N_("Whether it helped is yes or no."),
    "lab_feedback_minutes_saved": N_(
        "Minutes saved: a whole number from 0 to %(limit)s. One output saves at most a working "
        "day (8 hours); for a longer task, rate each use."
    ),
    "lab_feedback_minutes_without_ai": N_(
        "Minutes without AI: a whole number from 0 to %(limit)s (a working day). For a task "
        "that takes longer, give the time of the part the output covers."
    ),
    "lab_feedback_satisfaction": N_("Satisfaction is a mark from 1 to 5."),
    "lab_feedback_problem": N_("Unknown problem: %(problem)s."),
    "lab_feedback_usage": N_("What you did with the output: used as is, edited or discarded."),
    "lab_irritant_number": N_(
        "%(label)s: a whole number from %(low)s to %(high)s."
    ),
    "lab_irritant_rate": N_(
        "Error rate: a percentage from 0 to 100 (for instance 12.5)."
    ),
    "lab_irritant_no_unit": N_(
        "You belong to no unit, so you cannot record an irritant: ask your administrator."
    ),
    "lab_irritant_unit": N_("Choose the unit that suffers this irritant."),
    "lab_irritant_status": N_("Unknown status."),
    "lab_dashboard_date": N_("Dates are written YYYY-MM-DD."),
    "lab_dashboard_period": N_("The start of the period comes after its end."),
    "lab_dashboard_figure": N_("Unknown figure."),
    "masking_too_many": N_("At most %(limit)s corrections of the masking per message."),
    "masking_too_long": N_("A text to mask or keep has at most %(limit)s characters."),
    "privacy_unavailable": N_(
        "Personal data cannot be checked right now, so nothing was sent to this model. "
        "Try again, or choose a model cleared for personal data."
    ),
    "audit_expect_needs_org": N_("A noted head belongs to one organisation: give --org too."),
    "holds_collections": N_(
        "It still holds %(count)s document collections: delete them or ask their owners first."
    ),
    "too_many_inputs": N_("Too many texts in one request: %(count)s, the limit is %(limit)s."),
    "doc_empty": N_("The file is empty."),
    "doc_too_big": N_("The file is too big: %(size)s bytes, the limit is %(limit)s bytes."),
    "doc_too_many_pages": N_("The document has %(pages)s pages, the limit is %(limit)s."),
    "doc_unsupported": N_(
        "This type of file (%(kind)s) is not supported. Send a PDF, DOCX, ODT, PPTX, XLSX, ODS, "
        "CSV, HTML, TXT, Markdown or EML file."),
    "doc_encrypted": N_(
        "The document is protected by a password. Remove the protection and send it again."),
    "doc_corrupt": N_("The file is damaged or is not a valid %(kind)s file."),
    "doc_zip_bomb": N_(
        "The file would unpack to %(size)s bytes (the limit is %(limit)s): it was refused as a "
        "possible ZIP bomb."),
    "doc_no_text": N_("No text was found in this document."),
    "doc_scan_unreadable": N_(
        "This document is a scan, but no text could be recognised in it. Send a clearer scan or "
        "a version with text."),
    "doc_ocr_unavailable": N_(
        "This document is a scan and text recognition (OCR) is not installed on the server. "
        "Ask your administrator."),
    "doc_type_mismatch": N_(
        "The file name says %(declared)s but the file is a %(detected)s file; it was read as "
        "%(detected)s."),
    "doc_language": N_(
        "The document is written in a language that is not supported (%(language)s). Ask your "
        "administrator to add it, or send a version in French or English."),
    "doc_embedding_unavailable": N_(
        "Waiting for the embedding model (%(reason)s); indexing will go on by itself when it is "
        "back."),
    "doc_attachment_skipped": N_("The attachment %(name)s could not be read (%(reason)s)."),
    "doc_pages_damaged": N_("Damaged pages could not be read and were skipped: %(pages)s."),
    "doc_duplicate": N_("This file is already in the collection, as “%(title)s”."),
    "upload_too_many": N_("Too many files at once: %(count)s, the limit is %(limit)s."),
    "upload_too_big": N_("The upload is too big: the limit is %(limit)s bytes in one sending."),
    "upload_no_file": N_("Choose at least one file to send."),
    "search_empty": N_("Type what you are looking for."),
    "search_too_long": N_("The search is too long: at most %(limit)s characters."),
    "search_bad_date": N_("Write dates as year-month-day, for example 2025-03-31."),
    "index_model_mismatch": N_(
        "The document index was built with the embedding model %(model)s, not %(wanted)s. An "
        "administrator must run `civique reindex`."),
    "scope_invalid": N_("Unknown collection scope."),
    "right_invalid": N_("The right must be read or write."),
    "collection_team_required": N_("Choose the team of a team collection."),
    "collection_no_unit": N_("You belong to no unit, so you cannot create a unit collection."),
    "clearance_invalid": N_("Unknown level of data."),
    "clearance_above_ceiling": N_(
        "An organisation can only lower a model's clearance: this model is cleared for "
        "%(ceiling)s at most."
    ),
    "retention_out_of_range": N_(
        "The retention period of %(kind)s must be a whole number of days from %(low)s to "
        "%(high)s, or empty to keep forever."
    ),
    "policy_unknown_tool": N_("Unknown tool: %(tool)s."),
    "charter_empty": N_("Write the text of the charter before publishing it."),
    "charter_changed": N_(
        "A new version of the charter was published meanwhile: read it, then accept it."
    ),
    "charter_not_accepted": N_(
        "Accept your organisation's usage charter on the page %(url)s before using Civique. "
        "For an API token, its owner accepts it once on that page."
    ),
}


class UserError(Exception):
    """A problem the user can fix; `code` keys into `MESSAGES`."""

    def __init__(self, code: str, status: int = 400, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.status = status
        self.params = params


class NotFound(UserError):
    """The object does not exist, or belongs to someone the caller may not see (same answer)."""

    def __init__(self) -> None:
        super().__init__("not_found", 404)


class Forbidden(UserError):
    """The caller's role does not allow the action."""

    def __init__(self) -> None:
        super().__init__("forbidden", 403)


def error_message(exc: UserError) -> str:
    """The message of a `UserError` in the current language, parameters filled in."""
    return gettext(MESSAGES.get(exc.code, exc.code), **exc.params)


def stored_message(code: str, params: dict[str, Any] | None) -> str:
    """The message of an error code kept in the database with its parameters (any names)."""
    return gettext(MESSAGES.get(code, code), **(params or {}))
