// Starts the vendored Swagger UI on the OpenAPI document (kept out of the page: CSP forbids inline script).
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({ url: root.dataset.specUrl, dom_id: "#swagger-ui", deepLinking: true });
})();
