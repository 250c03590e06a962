"""The case list's contract filter: every contract by title while a person can scan the
list; beyond that a contract id is typed, and only the page's contracts are read."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from api.console import views
from store.contracts import create_contract
from store.db import get_engine
from tests.api.helpers import a_case, seed
from tests.api.test_console import SignIn, sign_in  # noqa: F401 (the fixture)
from workers.seed import reference_term_sheet


def _contracts(*ids: str) -> None:
    for contract_id in ids:
        terms = reference_term_sheet().model_copy(update={"title": f"MSA {contract_id}"})
        with Session(get_engine()) as s:
            create_contract(s, terms, actor="test", contract_id=contract_id)
            s.commit()


async def test_a_few_contracts_are_offered_by_title(sign_in: SignIn) -> None:  # noqa: F811
    _contracts("ctr_other")
    page = (await (await sign_in("viewer")).get("/console")).text
    assert '<select name="contract">' in page
    assert ">MSA ctr_other</option>" in page


async def test_beyond_the_list_a_contract_id_is_typed_and_only_the_pages_are_read(
    sign_in: SignIn,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(views, "CONTRACT_CHOICES", 2)
    _contracts("ctr_a", "ctr_b", "ctr_quiet")
    seed(a_case("case_a", contract_id="ctr_a"), a_case("case_b", contract_id="ctr_b"))
    viewer = await sign_in("viewer")
    page = (await viewer.get("/console")).text
    assert '<select name="contract">' not in page
    assert '<input type="search" name="contract"' in page
    # The page's contracts are suggested; one without a case on it is not read.
    assert '<option value="ctr_a">MSA ctr_a</option>' in page
    assert "ctr_quiet" not in page
    filtered = (await viewer.get("/console?contract=ctr_b")).text
    assert "case_b" in filtered and "case_a" not in filtered
    assert 'value="ctr_b"' in filtered
