"""URLconf for ``bench.survey_page``: the product's URLs plus the baseline's minimal view.

``/bench/minimal/<token>/`` takes a token in its path like the survey page, so wrk builds the
same kind of request for both sides and the router parses the same kind of URL; the view
reads nothing and renders nothing.
"""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def minimal(request: HttpRequest, token: str) -> HttpResponse:
    """The smallest Django view: a fixed body, no database, no template."""
    return HttpResponse(b"ok\n", content_type="text/plain; charset=utf-8")


urlpatterns = [
    path("bench/minimal/<str:token>/", minimal),
    path("", include("cxcrm.urls")),
]
