"""The Freshdesk app package (``billingdesk helpdesk freshdesk-package``).

A Freshworks platform 3.0 app with a ``ticket_sidebar`` page (reference §6.1). The page is
hosted by Freshworks; it reaches billingdesk only through request templates, so the app key
(a *secure* installation parameter) is added by the Freshworks proxy and never reaches the
agent's browser:

1. ``billingdeskLaunch`` POSTs to our launch URL with ``X-Billingdesk-Key`` and gets a
   short-lived token;
2. ``billingdeskPanel`` GETs the panel for the ticket's contact with that token as Bearer;
3. the page shows the returned HTML (server-rendered, escaped), styled by the panel's CSS.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from django.contrib.staticfiles import finders
from django.urls import reverse

from billingdesk.helpdesks.models import HelpdeskConnection
from billingdesk.helpdesks.packaging import png, public_base, zip_bytes

INDEX = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <script src="{{{appclient}}}"></script>
  <link rel="stylesheet" href="styles/panel.css">
  <link rel="stylesheet" href="styles/style.css">
</head>
<body class="panel">
  <div class="wrap"><p id="status" class="muted">Loading billing data…</p>
    <div id="panel"></div></div>
  <script src="scripts/app.js"></script>
</body>
</html>
"""

APP_JS = """// billingdesk ticket sidebar: launch token, then the panel for the ticket's contact.
(function () {
  "use strict";
  var statusEl = document.getElementById("status");
  var panelEl = document.getElementById("panel");
  function say(text) { statusEl.textContent = text; statusEl.hidden = !text; }
  function show(client) {
    return client.data.get("contact").then(function (data) {
      var email = (data && data.contact && data.contact.email) || "";
      return client.request.invokeTemplate("billingdeskLaunch", {}).then(function (launch) {
        var token = JSON.parse(launch.response).token;
        return client.request.invokeTemplate("billingdeskPanel", {
          context: { token: token, email: email }
        });
      });
    }).then(function (panel) {
      panelEl.innerHTML = JSON.parse(panel.response).html;  // escaped by billingdesk
      say("");
    }).catch(function (err) {
      say("billingdesk: " + ((err && err.status) ? "error " + err.status : "not reachable"));
    });
  }
  app.initialized().then(function (client) {
    client.events.on("app.activated", function () { show(client); });
  });
})();
"""


def _panel_css() -> str:
    found = finders.find("panel/panel.css")
    return Path(str(found)).read_text() if found else ""


def files(connection: HelpdeskConnection, base_url: str | None = None) -> dict[str, object]:
    base = public_base(base_url)
    parts = urlsplit(base)
    launch = reverse("helpdesks:freshdesk-launch", kwargs={"connection_id": connection.pk})
    panel = reverse("helpdesks:panel-api")
    schema_common = {"protocol": parts.scheme, "host": parts.netloc}
    return {
        "manifest.json": {
            "platform-version": "3.0",
            "modules": {
                "common": {"requests": {"billingdeskLaunch": {}, "billingdeskPanel": {}}},
                "support_ticket": {
                    "location": {
                        "ticket_sidebar": {"url": "index.html", "icon": "styles/images/icon.svg"}
                    }
                },
            },
            "engines": {"node": "18.16.1", "fdk": "9.1.0"},
        },
        "config/requests.json": {
            "billingdeskLaunch": {
                "schema": {
                    **schema_common,
                    "method": "POST",
                    "path": launch,
                    "headers": {
                        "X-Billingdesk-Key": "<%= iparam.app_key %>",
                        "Content-Type": "application/json",
                    },
                }
            },
            "billingdeskPanel": {
                "schema": {
                    **schema_common,
                    "method": "GET",
                    "path": panel,
                    "headers": {"Authorization": "Bearer <%= context.token %>"},
                    "query": {"email": "<%= context.email %>"},
                }
            },
        },
        "config/iparams.json": {
            "app_key": {
                "display_name": "billingdesk app key",
                "description": "The app_key secret of this connection in billingdesk.",
                "type": "text",
                "required": True,
                "secure": True,
            }
        },
        "app/index.html": INDEX,
        "app/scripts/app.js": APP_JS,
        "app/styles/panel.css": _panel_css(),
        "app/styles/style.css": "body { margin: 0; }\n#status { padding: 8px; }\n",
        "app/styles/images/icon.svg": (
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
            '<rect width="64" height="64" rx="12" fill="#2060a0"/>'
            '<text x="32" y="42" font-size="30" text-anchor="middle" fill="#fff">b</text></svg>\n'
        ),
        "app/styles/images/icon.png": png(64),
        "README.md": "billingdesk ticket sidebar for Freshdesk. Validate and pack with the FDK "
        "(`fdk validate`, `fdk pack`); see docs/helpdesks/freshdesk.md.\n",
    }


def package(connection: HelpdeskConnection, base_url: str | None = None) -> bytes:
    return zip_bytes(files(connection, base_url))  # type: ignore[arg-type]
