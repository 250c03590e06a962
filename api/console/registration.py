"""Registering a contract in the console: ``/console/contracts/new``.

A contract manager uploads a term sheet (YAML or JSON, the shape ``POST /api/contracts``
takes: ``contracts/term_sheets/reference_msa.yaml``), types its main fields, or both:
a field typed in the form replaces the file's value, so one file can serve as the model
for the next contract. The term sheet is checked by the model the API checks it with
(the rulebooks' declared figures included) and registered by the API's own route
function, which stores it, writes the ``contract_registered`` audit entry and starts
the cases that start with the contract.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

import yaml
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from api.console.forms import FieldError, by_field, manager_form, role_refusal, shown
from api.console.pages import refused, signed_in, text, user_page
from api.registration import register as register_contract
from api.schemas import ContractRegistered
from contracts.terms import TermSheet
from rules.rulebook import default_registry
from runtime.settings import get_settings

router = APIRouter(prefix="/console/contracts", tags=["console"], include_in_schema=False)

#: The form's file field, which errors about the file as a whole are named after.
UPLOAD_FIELD = "term_sheet"
#: A term sheet is a page of figures; a larger file is not one.
UPLOAD_LIMIT = 200_000
_FORMATS = {".json": "JSON", ".yaml": "YAML", ".yml": "YAML"}


@dataclass(frozen=True)
class TermField:
    """One of the term sheet's main fields as the form asks for it; ``path`` is its
    place in the term sheet (``customer.notice_email``), and the input's name."""

    path: str
    label: str
    kind: str = "text"  # text, email, date, decimal, select
    hint: str = ""
    choices: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class FieldGroup:
    title: str
    fields: tuple[TermField, ...]


#: What a contract manager reads off the signed agreement; everything else (copy-to
#: addresses, business hours, each clause's figures) comes from the file or defaults
#: to the reference MSA's.
GROUPS = (
    FieldGroup(
        "The agreement",
        (
            TermField("title", "Title", hint="e.g. Master Services Agreement"),
            TermField("reference", "Reference", hint="your own reference, e.g. MSA-2031-004"),
            TermField("effective_date", "Effective date", "date"),
            TermField(
                "our_side",
                "We are",
                "select",
                choices=(
                    ("", "as the file says (the Customer if it does not)"),
                    ("customer", "the Customer"),
                    ("provider", "the Provider"),
                ),
            ),
            TermField("time_zone", "Time zone", hint="IANA name; America/New_York if left out"),
            TermField("currency", "Currency", hint="three letters; USD if left out"),
            TermField("fees.monthly_fee", "Monthly fee", "decimal", hint="e.g. 25000.00"),
        ),
    ),
    FieldGroup(
        "The Customer",
        (
            TermField("customer.name", "Name"),
            TermField("customer.notice_email", "Notice email", "email"),
            TermField("customer.attention", "Attention of", hint="optional"),
        ),
    ),
    FieldGroup(
        "The Provider",
        (
            TermField("provider.name", "Name"),
            TermField("provider.notice_email", "Notice email", "email"),
            TermField("provider.attention", "Attention of", hint="optional"),
        ),
    ),
    FieldGroup(
        "Our contract owner",
        (
            TermField("owner.name", "Name"),
            TermField("owner.email", "Email", "email"),
        ),
    ),
)
FIELD_PATHS = tuple(f.path for g in GROUPS for f in g.fields)


class TermSheetRefused(Exception):
    """A term sheet that cannot be registered; ``errors`` names each field."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(map(str, errors)))
        self.errors = errors


# ------------------------------------------------------------------ reading the file


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice (the second would win unseen)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _unique_json_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"the key {key!r} is given twice")
        out[key] = value
    return out


def _refused(message: str) -> TermSheetRefused:
    return TermSheetRefused([FieldError(UPLOAD_FIELD, message)])


def parse_term_sheet(filename: str, data: bytes) -> dict[str, Any]:
    """The fields of an uploaded term sheet: JSON if its name ends in ``.json``, else YAML
    (of which JSON is a part, so a JSON file by another name still reads).

    Raises:
        TermSheetRefused: not UTF-8, not valid YAML or JSON (with the line), empty, or
            not a mapping of fields; named ``term_sheet``.
    """
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refused("the file is not text (UTF-8): upload the YAML or JSON term sheet") from None
    if not content.strip():
        raise _refused("the file is empty")
    kind = _FORMATS.get(PurePath(filename).suffix.lower(), "YAML")
    try:
        if kind == "JSON":
            parsed = json.loads(content, object_pairs_hook=_unique_json_keys)
        else:
            parsed = yaml.load(content, Loader=_UniqueKeyLoader)  # a SafeLoader: no tags run
    except json.JSONDecodeError as exc:
        raise _refused(
            f"the file is not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"
        ) from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise _refused(f"the file is not valid YAML{where}: {exc.problem or exc}") from exc
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        raise _refused(f"the file is not valid {kind}: {exc}") from exc
    if not isinstance(parsed, dict):
        found = "a list" if isinstance(parsed, list) else f"a single {type(parsed).__name__}"
        raise _refused(
            "the file must hold the term sheet's fields (title, customer, provider, owner, "
            f"effective_date, fees, ...), not {found}"
        )
    return parsed


async def read_upload(value: Any) -> tuple[str, dict[str, Any]] | None:
    """The uploaded term sheet's file name and fields; None when no file was chosen.

    Raises:
        TermSheetRefused: the file is too large or cannot be read (``parse_term_sheet``).
    """
    if not isinstance(value, UploadFile) or not value.filename:
        return None
    data = await value.read(UPLOAD_LIMIT + 1)
    if len(data) > UPLOAD_LIMIT:
        raise _refused(f"the file is larger than {UPLOAD_LIMIT // 1000} kB: it is no term sheet")
    return value.filename, parse_term_sheet(value.filename, data)


# --------------------------------------------------------------- checking the terms


def _put(data: dict[str, Any], path: str, value: str) -> None:
    """Sets ``customer.name``-style ``path`` in ``data``; a typed value wins over the file's."""
    *parents, last = path.split(".")
    node = data
    for part in parents:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            return  # the file's value there is not a mapping: its own error says so
        node = child
    node[last] = value


def _message(error: Any, typed_here: bool, with_file: bool) -> str:
    kind, message = error["type"], str(error["msg"]).removeprefix("Value error, ")
    if kind == "missing":
        if typed_here:
            return "is required: type it here" + (" or give it in the file" if with_file else "")
        return "is required" + (" in the term sheet file" if with_file else "")
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be a mapping of its own fields, not {type(error['input']).__name__}"
    if kind == "extra_forbidden":
        return "is not a field of a term sheet (check its spelling and where it sits)"
    return message


def check_terms(uploaded: dict[str, Any] | None, typed: dict[str, str]) -> TermSheet:
    """The term sheet of the file and the typed fields, checked as ``POST /api/contracts``
    checks its body (the rulebooks' figures with their defaults filled in).

    Raises:
        TermSheetRefused: every field that is missing, unknown or wrong, by its path.
    """
    data: dict[str, Any] = uploaded if uploaded is not None else {}
    for path in FIELD_PATHS:
        if typed.get(path):
            _put(data, path, typed[path])
        elif "." in path:
            # A party (or the fees) left out altogether is named by the fields it lacks,
            # which the form shows beside their inputs.
            data.setdefault(path.split(".")[0], {})
    try:
        return default_registry().term_sheet_model().model_validate(data)
    except ValidationError as exc:
        errors = []
        for e in exc.errors(include_url=False):
            field = ".".join(str(p) for p in e["loc"]) or UPLOAD_FIELD
            errors.append(FieldError(field, _message(e, field in FIELD_PATHS, bool(uploaded))))
        raise TermSheetRefused(errors) from None


# ----------------------------------------------------------------------------- pages


def _page(
    principal: Any,
    name: str,
    status: int = 200,
    *,
    values: dict[str, str] | None = None,
    errors: list[FieldError] | None = None,
    filename: str | None = None,
    registered: ContractRegistered | None = None,
) -> Response:
    return user_page(
        "contract_new.html.j2",
        principal,
        name,
        status,
        title="Register a contract",
        groups=GROUPS,
        values=values or {},
        errors=shown(errors or []),
        error_at=by_field(errors or []),
        filename=filename,
        registered=registered,
    )


def _typed(form: FormData) -> dict[str, str]:
    return {path: text(form, path).strip() for path in FIELD_PATHS}


@router.get("/new")
async def new_contract(request: Request) -> Response:
    """The form to register a contract from its term sheet."""
    principal, name = await signed_in(request)
    if (why := role_refusal(principal, "register contracts")) is not None:
        return refused(principal, name, why)
    return _page(principal, name)


@router.post("/new")
async def register(request: Request) -> Response:
    """Registers the contract, then shows its page; a refused term sheet shows the form
    again with each field that is wrong (422), and nothing is stored."""
    checked = await manager_form(request, "register contracts")
    if isinstance(checked, Response):
        return checked
    principal, name, form = checked
    typed = _typed(form)
    filename = None
    try:
        upload = await read_upload(form.get(UPLOAD_FIELD))
        filename = upload[0] if upload else None
        terms = check_terms(upload[1] if upload else None, typed)
    except TermSheetRefused as exc:
        return _page(principal, name, 422, values=typed, errors=exc.errors, filename=filename)
    # As the API registers it: the same store, audit entry and standing cases.
    registered = await register_contract(principal, terms, request, get_settings())
    if registered.warnings:
        # Stored, but what starts with it did not start: say so before moving on.
        return _page(principal, name, 201, registered=registered)
    return RedirectResponse(
        f"/console/contracts/{quote(registered.id)}?flash=registered", status_code=303
    )
