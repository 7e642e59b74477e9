"""Settings for ``bench.survey_page``'s gunicorn: the product's own, plus one URL.

Everything (middleware, DEBUG, database, cache, static storage) comes from cxcrm.settings and
the environment the bench sets; only the URLconf differs, so that the bench's minimal view is
served by the same process, through the same middleware, as the survey page. The bench's
``--what-if-no-health-checks`` sets BENCH_CONN_HEALTH_CHECKS=false to measure the product
without the connection health check it has on (a what-if, not a setting of the product).
"""

import os

from cxcrm.settings import *  # noqa: F403
from cxcrm.settings import DATABASES

ROOT_URLCONF = "bench.survey_urls"

if os.environ.get("BENCH_CONN_HEALTH_CHECKS") == "false":
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
