"""The checks of notices: each subject is a valid Jinja template, and (when templates are
required) each notice has its text and HTML templates beside the rulebook.
"""

from __future__ import annotations

import jinja2

from rules.rulebook.checks.context import Context


def check_notices(ctx: Context) -> None:
    """Each subject parses as a template; each template file exists if required."""
    env = jinja2.Environment()
    for name, spec in ctx.rb.notices.items():
        try:
            env.parse(spec.subject)
        except jinja2.TemplateSyntaxError as exc:
            raise ctx.fail(
                ("notices", name, "subject"),
                f"notice {name!r}: subject is not a valid template: {exc.message}",
            ) from exc
        if not ctx.check_templates:
            continue
        for template in ctx.rb.template_paths(name):
            if not template.is_file():
                rel = template.relative_to(ctx.rb.folder)
                raise ctx.fail(("notices", name), f"notice {name!r} has no template {rel}")
