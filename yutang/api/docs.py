"""/docs (Swagger UI) and /redoc served from the npm packages installed at set-up: nothing loads from a CDN."""

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

VENDOR = "/static/vendor"
FAVICON = f"{VENDOR}/swagger-ui-dist/favicon-32x32.png"
# The files the two pages load; scripts/setup installs them with npm ci (package.json pins the versions).
ASSETS = ("swagger-ui-dist/swagger-ui-bundle.js", "swagger-ui-dist/swagger-ui.css",
          "swagger-ui-dist/favicon-32x32.png", "redoc/bundles/redoc.standalone.js")
# Keeps the pages from reaching out even where a bundle links elsewhere (Redoc's footer logo is on its CDN).
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
       "script-src 'self' 'unsafe-inline'; worker-src 'self' blob:; font-src 'self' data:")


def install(app: FastAPI) -> None:
    """Add the two documentation pages for the app's /openapi.json."""

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        page = get_swagger_ui_html(openapi_url=app.openapi_url, title=f"{app.title} API",
                                   swagger_js_url=f"{VENDOR}/swagger-ui-dist/swagger-ui-bundle.js",
                                   swagger_css_url=f"{VENDOR}/swagger-ui-dist/swagger-ui.css",
                                   swagger_favicon_url=FAVICON,
                                   # Tags start folded: expanded, Swagger UI 5.35 drew only the first two tags
                                   # of this 143-operation document.
                                   swagger_ui_parameters={"docExpansion": "none"})
        page.headers["Content-Security-Policy"] = CSP
        return page

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        page = get_redoc_html(openapi_url=app.openapi_url, title=f"{app.title} API",
                              redoc_js_url=f"{VENDOR}/redoc/bundles/redoc.standalone.js",
                              redoc_favicon_url=FAVICON, with_google_fonts=False)
        page.headers["Content-Security-Policy"] = CSP
        return page
