"""The checks of notices: each subject is a valid Jinja template, (when templates are
required) each notice has its text and HTML templates beside the rulebook, and each says
whose notice it is and goes only where that party's notice may go.
"""

from __future__ import annotations

import jinja2

from rules.rulebook.checks.context import Context
from rules.rulebook.model import NoticeSpec

#: To whom a party's notice is addressed: the other party of the contract.
ADDRESSEE = {
    "customer": "provider",
    "provider": "customer",
    "notifying_party": "receiving_party",
    "receiving_party": "notifying_party",
}


def check_notices(ctx: Context) -> None:
    """Each subject parses as a template; each template file exists if required; senders."""
    env = jinja2.Environment()
    for name, spec in ctx.rb.notices.items():
        try:
            env.parse(spec.subject)
        except jinja2.TemplateSyntaxError as exc:
            raise ctx.fail(
                ("notices", name, "subject"),
                f"notice {name!r}: subject is not a valid template: {exc.message}",
            ) from exc
        _check_sender(ctx, name, spec)
        if not ctx.check_templates:
            continue
        for template in ctx.rb.template_paths(name):
            if not template.is_file():
                rel = template.relative_to(ctx.rb.folder)
                raise ctx.fail(("notices", name), f"notice {name!r} has no template {rel}")


def _check_sender(ctx: Context, name: str, spec: NoticeSpec) -> None:
    """Whose notice it is, and that it goes only where that party's notice may go."""
    rb = ctx.rb
    if spec.sender is None:
        if rb.declares_senders:
            raise ctx.fail(
                ("notices", name),
                f"notice {name!r} does not say whose notice it is: give it a sender "
                "(customer, provider, notifying_party, receiving_party or internal)",
            )
        for key in ("expected_by", "received_as", "label"):
            if getattr(spec, key) is not None:
                raise ctx.fail(("notices", name, key), f"notice {name!r}: {key} needs a sender")
        return
    recipients = [*spec.to, *spec.copy_]
    if spec.sender == "internal":
        if set(recipients) != {"owner"}:
            raise ctx.fail(
                ("notices", name, "to"),
                f"notice {name!r} is internal: it goes to our own people (owner) only, "
                f"not to {', '.join(r for r in recipients if r != 'owner')}",
            )
        for key in ("expected_by", "received_as"):
            if getattr(spec, key) is not None:
                raise ctx.fail(
                    ("notices", name, key),
                    f"notice {name!r} is internal: no other party gives it, so it has no {key}",
                )
        return
    if spec.sender in ("notifying_party", "receiving_party"):
        given_by = rb.facts.get("given_by")
        if given_by is None or given_by.type != "party":
            raise ctx.fail(
                ("notices", name, "sender"),
                f"notice {name!r}: sender {spec.sender} needs a start fact given_by of type "
                "party (who gave the notice that opened the case)",
            )
    addressee = ADDRESSEE[spec.sender]
    if spec.to != [addressee]:
        raise ctx.fail(
            ("notices", name, "to"),
            f"notice {name!r} is the {spec.sender}'s: it is addressed to the other party, "
            f"to: [{addressee}]",
        )
    if any(r != "owner" for r in spec.copy_):
        raise ctx.fail(
            ("notices", name, "copy"),
            f"notice {name!r} is the {spec.sender}'s: it is copied to our own people "
            "(owner) only; the other party's own copy-to addresses come from the term sheet",
        )
    if spec.expected_by is not None and not ctx.known_deadline(spec.expected_by):
        raise ctx.fail(
            ("notices", name, "expected_by"),
            f"notice {name!r}: expected_by names undeclared deadline {spec.expected_by!r}",
        )
    if spec.received_as is not None and spec.received_as not in rb.recordable_facts:
        raise ctx.fail(
            ("notices", name, "received_as"),
            f"notice {name!r}: received_as names undeclared recordable fact {spec.received_as!r}",
        )
