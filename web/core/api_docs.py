"""The interactive API reference at ``/api/v1/docs``: Swagger UI over the served OpenAPI document.

Its assets come from the ``swagger-ui-bundle`` package and are served by the API itself, never from
a CDN, so the reference works on an offline host; the page's Content-Security-Policy forbids any
other origin, so a stray external fetch fails loudly instead of leaking where the host is.
"""

from __future__ import annotations

from flask import Flask, Response, send_from_directory
from swagger_ui_bundle import swagger_ui_path

from web.core.access import PUBLIC

PAGE_PATH = "/api/v1/docs"
ASSETS = ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js")
ASSET_MAX_AGE = 24 * 3600
CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self' data:"
)
PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Trusera AI-BOM API reference</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/swagger-ui-bundle.js"></script>
  <script src="docs/swagger-ui-standalone-preset.js"></script>
  <script>
    window.onload = function () {
      window.ui = SwaggerUIBundle({
        url: "openapi.json",
        dom_id: "#swagger-ui",
        deepLinking: true,
        validatorUrl: null,
        presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
        layout: "BaseLayout"
      });
    };
  </script>
</body>
</html>
"""


def reference_page() -> Response:
    response = Response(PAGE, mimetype="text/html")
    response.headers["Content-Security-Policy"] = CSP
    return response


def _asset_view(name: str):
    def asset() -> Response:
        return send_from_directory(swagger_ui_path, name, max_age=ASSET_MAX_AGE)

    asset.required_role = PUBLIC
    return asset


reference_page.required_role = PUBLIC


def init_app(app: Flask) -> None:
    """Relative URLs in the page (``docs/...``, ``openapi.json``) keep it working behind a path prefix."""
    app.add_url_rule(PAGE_PATH, endpoint="api-docs.reference", view_func=reference_page)
    for name in ASSETS:
        app.add_url_rule(
            f"{PAGE_PATH}/{name}", endpoint=f"api-docs.asset.{name}", view_func=_asset_view(name)
        )
