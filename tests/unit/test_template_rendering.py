"""Templates render in a sandbox with strict undefined variables; each value is checked by its declared
type; a text may use only variables it declares, ``if`` blocks and a few text filters."""

from __future__ import annotations

import hashlib

import pytest

from chalicelib.domain.templates import (
    TemplateTextError,
    TemplateVariableError,
    Variable,
    VariableType,
    check_declared,
    check_text,
    outline,
    render,
    text_hash,
)

DECLARED = check_declared(
    {"amount": "amount", "due": "date", "creditor": "creditor", "agency": "agency", "link": "payment_link"}
)
TEXT = "{{ agency }} for {{ creditor }}: {{ amount }} due {{ due }}. Pay at {{ link }}. Reply STOP to opt out."
VALUES = {
    "amount": 1234.5,
    "due": "2026-03-31",
    "creditor": "Acme Bank",
    "agency": "North Recovery",
    "link": "https://pay.example.com/a-1",
}


def test_every_typed_variable_is_filled_in():
    assert render(TEXT, DECLARED, VALUES, "en") == (
        "North Recovery for Acme Bank: 1,234.50 due 2026-03-31. Pay at https://pay.example.com/a-1. "
        "Reply STOP to opt out."
    )


def test_an_amount_is_written_as_the_locale_writes_it():
    declared = check_declared({"amount": "amount"})
    assert render("{{ amount }}", declared, {"amount": "1234.5"}, "es") == "1.234,50"
    assert render("{{ amount }}", declared, {"amount": 1234}, "zh-CN") == "1,234.00"


def test_a_missing_variable_is_an_error_naming_it():
    values = {k: v for k, v in VALUES.items() if k != "amount"}
    with pytest.raises(TemplateVariableError) as raised:
        render(TEXT, DECLARED, values, "en", field="template.variables")
    assert raised.value.field == "template.variables.amount"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("amount", "twelve"),
        ("amount", True),
        ("amount", 12.345),
        ("due", "31/03/2026"),
        ("due", "2026-02-30"),
        ("link", "http://pay.example.com"),
        ("link", "javascript:alert(1)"),
        ("creditor", ""),
        ("creditor", 7),
        ("agency", "North\x07Recovery"),
    ],
)
def test_a_value_of_the_wrong_type_is_an_error_naming_it(name, value):
    with pytest.raises(TemplateVariableError) as raised:
        render(TEXT, DECLARED, {**VALUES, name: value}, "en")
    assert raised.value.field == f"variables.{name}"


def test_a_value_the_version_does_not_declare_is_refused():
    with pytest.raises(TemplateVariableError) as raised:
        render(TEXT, DECLARED, {**VALUES, "threat": "x"}, "en")
    assert raised.value.field == "variables.threat"


@pytest.mark.parametrize(
    "text",
    [
        "{{ amount.__class__ }}",  # attributes: the sandbox's first door, closed before it
        "{{ creditor['x'] }}",
        "{% for i in range(10) %}{{ i }}{% endfor %}",
        "{{ lipsum() }}",
        "{% include 'x' %}",
        "{% set x = 1 %}",
        "{{ creditor | attr('upper') }}",
        "{{ debtor_name }}",  # not declared
        "{{ amount ",  # does not parse
        "{{ creditor | upper(1, 2) }}",  # a filter with arguments would fail only when rendered
        "{% if amount > 5 %}x{% endif %}",  # values are text once formatted: no comparisons
        "{{ creditor ~ agency }}",
        "{{ amount * 100000000 }}",
    ],
)
def test_a_text_using_what_templates_may_not_is_refused_naming_the_text(text):
    with pytest.raises(TemplateTextError) as raised:
        check_text(text, DECLARED)
    assert raised.value.field == "text"


def test_an_optional_variable_may_be_left_out_and_an_if_block_tells():
    declared = check_declared({"creditor": "creditor", "agency": "agency?"})
    text = "{% if agency %}{{ agency | upper }} for {% endif %}{{ creditor | trim }}"
    assert render(text, declared, {"creditor": " Acme ", "agency": "North"}, "en") == "NORTH for Acme"
    assert render(text, declared, {"creditor": "Acme"}, "en") == "Acme"
    assert render(text, declared, {"creditor": "Acme", "agency": None}, "en") == "Acme"
    with pytest.raises(TemplateVariableError) as raised:
        render(text, declared, {"agency": "North"}, "en")
    assert raised.value.field == "variables.creditor"


def test_the_outline_holds_every_branch_and_names_each_variable():
    declared = check_declared({"late": "integer"})
    text = "Hello. {% if late %}We will call the police.{% else %}Thank you.{% endif %} Ref {{ late }}"
    check_text(text, declared)
    assert outline(text) == "Hello. We will call the police.Thank you. Ref [late]"


def test_declared_variables_are_typed_and_each_problem_names_the_variable():
    assert check_declared({"amount": "amount", "agency": "agency?"}) == {
        "amount": Variable(VariableType.AMOUNT),
        "agency": Variable(VariableType.AGENCY, optional=True),
    }
    with pytest.raises(TemplateVariableError) as raised:
        check_declared({"amount": "money"})
    assert raised.value.field == "variables.amount"
    with pytest.raises(TemplateVariableError) as raised:
        check_declared({"Amount!": "amount"})
    assert raised.value.field == "variables.Amount!"


def test_the_text_hash_is_sha256_of_the_utf8_text():
    assert text_hash("催收") == hashlib.sha256("催收".encode()).hexdigest() != text_hash("催收 ")
