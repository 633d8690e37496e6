"""The admin UI under `/`: server-rendered pages (Flask and Jinja, a little plain JavaScript)
for merchants, their accountants and operators, in Bahasa Indonesia with an English switch.

`views` holds the pages, `session` the sign-in and CSRF check, `forms` the setting form's
translation to the JSON API's request bodies, and `i18n` every word the pages say; the company's
page is `company_pages`. The pages check the signed-in user's reach (`gateway.reach`) and call the
same use cases as the JSON API (`services`), acting as that user for the audit trail.
"""

from __future__ import annotations

from flask import Flask

from infra.bootstrap import Container


def install_admin(app: Flask, container: Container) -> None:
    from gateway.admin import company_pages  # noqa: F401  (its pages join the blueprint)
    from gateway.admin.session import configure_sessions
    from gateway.admin.views import admin

    configure_sessions(app, container)
    app.register_blueprint(admin)
