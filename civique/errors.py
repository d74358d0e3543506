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
    "glossary_empty": N_("The glossary file is empty."),
    "glossary_too_big": N_(
        "The glossary file is too big: %(size)s bytes, the limit is %(limit)s bytes."),
    "glossary_encoding": N_("The glossary file is not UTF-8 or Windows-1252 text."),
    "glossary_header": N_(
        "The first line of the glossary must be “term,language,translation” (and optionally "
        "“note”), or one column per language code starting with “fr” (fr,en,de,…)."),
    "glossary_too_many_rows": N_("The glossary has more than %(limit)s rows: split it."),
    "glossary_no_file": N_("Choose a CSV file to import."),
    "glossary_import_mode": N_(
        "Choose whether the file replaces the glossary or is merged into it."),
    "glossary_language": N_("Choose a target language from the list."),
    "glossary_term_required": N_("Give the French term and its translation."),
    "glossary_entry_too_long": N_("A term, translation or note has at most %(limit)s characters."),
    "glossary_entry_exists": N_(
        "“%(term)s” already has a translation into this language in the glossary: edit it."),
    "glossary_text_too_long": N_("The description has at most %(limit)s characters."),
    "letter_kind_invalid": N_("Choose the kind of letter from the list."),
    "letter_title_required": N_("Give the template a title (at most %(limit)s characters)."),
    "letter_body_required": N_("Write the body of the template."),
    "letter_body_too_long": N_("The body of the template has at most %(limit)s characters."),
    "letter_variable_name": N_(
        "Variable “%(name)s”: a name uses lower-case letters, digits and _ and starts with a "
        "letter (at most 40 characters)."),
    "letter_variable_label": N_("Variable “%(name)s” needs a label (at most 200 characters)."),
    "letter_variable_type": N_("Variable “%(name)s”: unknown type."),
    "letter_variable_twice": N_("The variable “%(name)s” is defined twice."),
    "letter_too_many_variables": N_("A template has at most %(limit)s variables."),
    "letter_unknown_variable": N_(
        "The body uses {{ %(name)s }}, which is not a variable of the template: define it or "
        "remove it."),
    "letter_builtin_readonly": N_(
        "Built-in templates cannot be edited; create your own template from it instead."),
    "letterhead_invalid": N_(
        "Check the letterhead: the address has at most 6 lines of 200 characters, the "
        "telephone 40 characters, the e-mail must be valid and the website start with https://."),
    "jargon_term_required": N_("Give the word to avoid (at most %(limit)s characters)."),
    "jargon_suggestion_too_long": N_("The suggestion has at most %(limit)s characters."),
    "jargon_unknown_term": N_("This word is not on the list."),
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
    "tool_bad_validation": N_("The validation rule must be the tool's default, always or never."),
    "tool_invalid_input": N_("Some fields are missing or invalid: %(fields)s."),
    "tool_too_long": N_(
        "The text is too long for the model's context: about %(limit)s words at most for this "
        "tool. Shorten it or ask your administrator for a model with a longer context."
    ),
    "tool_paragraph_too_long": N_(
        "Paragraph %(paragraph)s has a sentence too long for the model: about %(limit)s words "
        "at most. Split it into shorter sentences and run again; nothing was cut."
    ),
    "tool_too_many_parts": N_(
        "The text is too long: it would take %(parts)s runs of the model, the limit is "
        "%(limit)s. Run it in several pieces."
    ),
    "tool_not_a_tool_output": N_("This output was not made by a tool: it cannot be regenerated."),
    # The translation tool.
    "translation_same_language": N_("Choose a target language other than the source language."),
    "translation_unsupported": N_(
        "The model %(model)s cannot translate into %(language)s (measured): ask your "
        "administrator for another model, or have the text translated by a person."
    ),
    "translation_document_type": N_(
        "This file is not a DOCX, ODT or PDF document (its content was checked, not its name)."
    ),
    "translation_document_too_big": N_(
        "The file is too big: %(size)s bytes, the limit is %(limit)s."
    ),
    "translation_document_empty": N_("The document has no text to translate."),
    "translation_document_unreadable": N_(
        "The document could not be read: it may be damaged or protected. %(reason)s"
    ),
    "translation_document_too_long": N_(
        "The document has %(count)s paragraphs to translate, the limit is %(limit)s: split it "
        "and translate it in several files. Nothing was translated."
    ),
    "translation_document_failed": N_(
        "The model failed at paragraph %(paragraph)s of %(total)s; nothing was kept, try again. "
        "%(reason)s"
    ),
    "proofreading_who": N_("Give the proof-reader's name and role (at most 200 characters each)."),
    "proofreading_date": N_(
        "Give the day of the proof-reading as year-month-day, not in the future."
    ),
    "charter_empty": N_("Write the text of the charter before publishing it."),
    "charter_changed": N_(
        "A new version of the charter was published meanwhile: read it, then accept it."
    ),
    "charter_not_accepted": N_(
        "Accept your organisation's usage charter on the page %(url)s before using Civique. "
        "For an API token, its owner accepts it once on that page."
    ),
    # The Lab: challenges, learning path, experiments, showcase.
    "lab_challenge_closed": N_(
        "The challenge closed on %(date)s: its teams and experiments are read-only."
    ),
    "lab_bad_date": N_("Write every date as year-month-day, for example 2026-03-31."),
    "lab_title_required": N_("A title is required."),
    "lab_bad_status": N_("Unknown status."),
    "lab_bad_audience": N_("Choose who may join: the whole organisation or chosen units."),
    "lab_units_required": N_("Choose at least one unit that may join the challenge."),
    "lab_size": N_("The team size limit must be a whole number from %(low)s to %(high)s."),
    "lab_pass_mark": N_("The pass mark must be a whole percentage from %(low)s to %(high)s."),
    "lab_dates_order": N_("The challenge must end on or after the day it starts."),
    "lab_phases_order": N_(
        "Each phase must end on or after its start, and the phases must follow each other: "
        "awareness, exploration, showcase."
    ),
    "lab_phases_outside": N_("The phases must lie between the challenge's start and end."),
    "lab_join_closed": N_("This challenge is closed: nobody can join it or form a team any more."),
    "lab_join_not_open": N_("This challenge is not open yet."),
    "lab_join_unit": N_(
        "This challenge is open to the staff of these units only: %(units)s. Ask the "
        "innovation lead if you should take part."
    ),
    "lab_already_in_team": N_(
        "You are already in a team of this challenge: leave it first to join another one."
    ),
    "lab_team_full": N_("This team is full: at most %(limit)s people per team."),
    "lab_question_required": N_("Write the question."),
    "lab_choices_count": N_("A question needs %(low)s to %(high)s choices."),
    "lab_correct_required": N_("Tick at least one correct choice."),
    "lab_no_quiz": N_("This challenge has no quiz yet."),
    "lab_path_required": N_(
        "This challenge asks you to complete its learning path first: read the pages and pass "
        "the quiz at %(url)s, then come back."
    ),
    "lab_bad_step": N_("Unknown step."),
    "lab_bad_decision": N_(
        "The decision must be generalise, extend the test, stop or a non-AI alternative."
    ),
    "lab_bad_number": N_("“%(value)s” is not a number: write it like 12.5 or 12,5."),
    "lab_number_range": N_("A value must be from 0 to less than %(limit)s."),
    "lab_number_unit": N_("For this unit, a value must be at most %(limit)s."),
    "lab_number_precision": N_("Give at most four decimals."),
    "lab_label_required": N_("Name what was measured."),
    "lab_bad_unit": N_("Choose a unit from the list."),
    "lab_value_or_pair": N_(
        "Give either one value, or both a value before and a value after (not both kinds)."
    ),
    "lab_output_required": N_("Choose an output of the register, or type its number."),
    "lab_output_unknown": N_(
        "No output with this number that you may read: pick one of your outputs in the list."
    ),
    "lab_publish_incomplete": N_(
        "Write the irritant (hypotheses) and the decision before publishing the result."
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
