/* billingdesk panel inside a helpdesk (see helpdesks/embed.py).
 * The launch token lives only in this page's memory and goes out as a Bearer header; no cookie
 * is needed inside the iframe. Customer context learnt here (ZAF, Front, Chatwoot postMessage)
 * is a hint: the server decides what the token allows. */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("bd-embed").textContent);
  var statusEl = document.getElementById("bd-status");
  var panelEl = document.getElementById("bd-panel");
  var signinEl = document.getElementById("bd-signin");
  var agentToken = null;
  var lastEmail = null;
  try { agentToken = window.sessionStorage.getItem("bd-agent:" + config.signinUrl); } catch (e) { /* storage blocked */ }

  function say(text) { statusEl.textContent = text; statusEl.hidden = !text; }

  function load(email) {
    lastEmail = email;
    var url = config.panelUrl + (email ? "?email=" + encodeURIComponent(email) : "");
    var headers = { "Authorization": "Bearer " + config.token };
    if (agentToken) headers["X-Billingdesk-Agent"] = agentToken;
    say("Loading billing data…");
    fetch(url, { headers: headers, credentials: "omit" }).then(function (r) {
      return r.json().then(function (body) { return { status: r.status, body: body }; });
    }).then(function (res) {
      if (res.status === 200) {
        panelEl.innerHTML = res.body.html;  // server-rendered, every value escaped
        say("");
        signinEl.hidden = !res.body.read_only;
      } else {
        panelEl.textContent = "";
        say(res.body.error || ("Error " + res.status));
        signinEl.hidden = !res.body.signin;
      }
    }).catch(function () { say("billingdesk could not be reached."); });
  }

  // Renew the token before it expires, so a panel left open keeps working (bounded server-side).
  window.setInterval(function () {
    fetch(config.renewUrl, {
      method: "POST", credentials: "omit", headers: { "Authorization": "Bearer " + config.token }
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (body) {
      if (body && body.token) config.token = body.token;
    }).catch(function () { /* the next load reports the problem */ });
  }, config.renewEvery);

  // The panel's action buttons (rows of a signed-in agent) open the action's own pages in a
  // first-party window, where the agent's billingdesk session applies; the panel reloads
  // when that window closes.
  panelEl.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[hx-get]") : null;
    if (!button) return;
    event.preventDefault();
    var win = window.open(button.getAttribute("hx-get"), "bd-action", "width=520,height=720");
    if (!win) return;
    var timer = window.setInterval(function () {
      if (win.closed) { window.clearInterval(timer); load(lastEmail); }
    }, 700);
  });

  document.getElementById("bd-signin-button").addEventListener("click", function () {
    window.open(config.signinUrl, "bd-signin", "width=480,height=640");
  });
  window.addEventListener("message", function (event) {
    // Only our own sign-in popup (same origin as this frame) may hand us an agent token.
    if (event.origin !== window.location.origin || !event.data || event.data.type !== "billingdesk-agent") return;
    agentToken = String(event.data.token || "");
    try { window.sessionStorage.setItem("bd-agent:" + config.signinUrl, agentToken); } catch (e) { /* ignore */ }
    load(lastEmail);
  });

  if (config.mode === "signed") {
    load(null);
  } else if (config.mode === "zendesk" && window.ZAFClient) {
    var client = window.ZAFClient.init();
    var fromZendesk = function () {
      client.get("ticket.requester.email").then(function (d) { load(d["ticket.requester.email"] || null); });
    };
    client.invoke("resize", { width: "100%", height: "600px" });
    client.on("ticket.requester.email.changed", fromZendesk);
    fromZendesk();
  } else if (config.mode === "front" && window.Front) {
    window.Front.contextUpdates.subscribe(function (context) {
      if (context.type === "singleConversation" && context.conversation && context.conversation.recipient) {
        load(context.conversation.recipient.handle || null);
      } else {
        panelEl.textContent = "";
        say("Select one conversation to see its customer's billing.");
      }
    });
  } else if (config.mode === "chatwoot") {
    window.addEventListener("message", function (event) {
      if (!config.chatwootOrigin || event.origin !== config.chatwootOrigin || typeof event.data !== "string") return;
      var msg;
      try { msg = JSON.parse(event.data); } catch (e) { return; }
      if (!msg || msg.event !== "appContext" || !msg.data) return;
      var contact = msg.data.contact || {};
      load(typeof contact.email === "string" ? contact.email : null);
    });
    window.parent.postMessage("chatwoot-dashboard-app:fetch-info", "*");
    load(null);
  } else {
    say("This helpdesk's script did not load; reload the page.");
  }
})();
