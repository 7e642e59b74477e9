"use strict";
// Starts ReDoc with SPECTACULAR_SETTINGS["REDOC_UI_SETTINGS"] (a data attribute: the CSP
// allows no inline script).
(function () {
  const container = document.getElementById("redoc-container");
  const options = JSON.parse(container.dataset.settings || "{}");
  Redoc.init(container.dataset.specUrl, options, container);
})();
