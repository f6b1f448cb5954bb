"""Response headers that tell browsers what the registry's pages may do (``quality.md``,
Security): a Content-Security-Policy that allows nothing but the registry's own origin, and a
Permissions-Policy that switches off device features the portal never uses.

Django's own middleware sets the rest: ``X-Frame-Options: DENY`` (clickjacking),
``X-Content-Type-Options: nosniff``, ``Referrer-Policy`` and, in production over HTTPS,
``Strict-Transport-Security`` (``config/settings.py``). The portal has no inline script or
style: scripts and style sheets are static files, data for scripts travels in
``json_script`` blocks (not executed), and the API docs use the split Swagger view.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

# Everything from the registry's own origin only. Images may also be data: URIs (the API
# docs' icons). frame-ancestors repeats X-Frame-Options for browsers that read only CSP.
DEFAULT_CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
DEFAULT_PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


def content_security_policy() -> str:
    return str(getattr(settings, "CONTENT_SECURITY_POLICY", DEFAULT_CSP))


class SecurityHeadersMiddleware:
    """Adds the CSP and Permissions-Policy to every response that does not set its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.csp = content_security_policy()
        self.permissions = str(getattr(settings, "PERMISSIONS_POLICY", DEFAULT_PERMISSIONS_POLICY))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.csp)
        response.headers.setdefault("Permissions-Policy", self.permissions)
        return response
