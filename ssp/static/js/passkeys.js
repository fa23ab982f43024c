/* Passkeys (WebAuthn): register one under Account, sign in with one (as the second
   step, or alone), or confirm it is you before a protected page. Each button names the
   server's two addresses: one hands out a challenge, the other checks the answer. The
   browser asks for the fingerprint, face or PIN; nothing secret leaves the device.
   The words it shows come from the page, in the reader's language: the status line's
   data-prompt, data-cancelled and data-failed (templates/staff/_passkey_status.html). */
(function () {
  "use strict";
  var buttons = document.querySelectorAll("[data-passkey]");
  if (!buttons.length) return;
  var supported = !!(window.PublicKeyCredential && navigator.credentials);
  var token = document.querySelector("meta[name=csrf-token]").content;
  var wording = (document.getElementById("passkey-status") || document.body).dataset;

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) base64 += "=";
    var raw = atob(base64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes.buffer;
  }

  function toText(buffer) {
    if (!buffer) return null;
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) raw += String.fromCharCode(bytes[i]);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRFToken": token, "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().then(function (data) {
        if (data.confirm) { window.location.href = data.confirm; throw new Error(data.error); }
        if (!response.ok) throw new Error(data.error || wording.failed || "");
        return data;
      });
    });
  }

  function descriptors(list) {
    return (list || []).map(function (c) { return { type: c.type, id: toBytes(c.id), transports: c.transports }; });
  }

  function create(options) {
    options.challenge = toBytes(options.challenge);
    options.user.id = toBytes(options.user.id);
    options.excludeCredentials = descriptors(options.excludeCredentials);
    return navigator.credentials.create({ publicKey: options }).then(function (made) {
      return {
        id: made.id, rawId: toText(made.rawId), type: made.type,
        authenticatorAttachment: made.authenticatorAttachment || null,
        clientExtensionResults: made.getClientExtensionResults(),
        response: {
          clientDataJSON: toText(made.response.clientDataJSON),
          attestationObject: toText(made.response.attestationObject),
          transports: made.response.getTransports ? made.response.getTransports() : []
        }
      };
    });
  }

  function get(options) {
    options.challenge = toBytes(options.challenge);
    options.allowCredentials = descriptors(options.allowCredentials);
    return navigator.credentials.get({ publicKey: options }).then(function (used) {
      return {
        id: used.id, rawId: toText(used.rawId), type: used.type,
        authenticatorAttachment: used.authenticatorAttachment || null,
        clientExtensionResults: used.getClientExtensionResults(),
        response: {
          clientDataJSON: toText(used.response.clientDataJSON),
          authenticatorData: toText(used.response.authenticatorData),
          signature: toText(used.response.signature),
          userHandle: toText(used.response.userHandle)
        }
      };
    });
  }

  Array.prototype.forEach.call(buttons, function (button) {
    var status = document.getElementById(button.dataset.status || "passkey-status");
    if (!supported) {
      button.hidden = true;
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      var register = button.dataset.passkey === "register";
      var nameBox = document.getElementById("passkey-name");
      button.disabled = true;
      if (status) status.textContent = wording.prompt || "";
      post(button.dataset.options)
        .then(register ? create : get)
        .then(function (credential) {
          return post(button.dataset.finish, {
            credential: credential,
            name: register && nameBox ? nameBox.value : undefined,
            next: button.dataset.next
          });
        })
        .then(function (answer) { window.location.href = answer.next; })
        .catch(function (error) {
          button.disabled = false;
          var cancelled = error && (error.name === "NotAllowedError" || error.name === "AbortError");
          if (status) status.textContent = cancelled ? (wording.cancelled || "") : (error.message || wording.failed || "");
        });
    });
  });
})();
