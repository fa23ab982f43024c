/* Sealing an outreach contact on the phone (WebCrypto), the mirror of
   ssp/outreach/sealing.py: an ephemeral ECDH P-256 key pair, HKDF-SHA-256 over the shared
   secret, AES-256-GCM with the key id, user id and submission key as associated data.
   The ephemeral private key is never kept, so the phone cannot open what it sealed. */
(function () {
  "use strict";
  var INFO = "ssp-outreach-v1";
  var encoder = new TextEncoder();

  function b64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var text = "";
    for (var i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  async function seal(contact, publishedKey, userId, submissionKey) {
    var subtle = window.crypto.subtle;
    var server = await subtle.importKey(
      "jwk",
      { kty: "EC", crv: "P-256", x: publishedKey.jwk.x, y: publishedKey.jwk.y, ext: true },
      { name: "ECDH", namedCurve: "P-256" },
      false,
      []
    );
    var ephemeral = await subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
    var shared = await subtle.deriveBits({ name: "ECDH", public: server }, ephemeral.privateKey, 256);
    var material = await subtle.importKey("raw", shared, "HKDF", false, ["deriveKey"]);
    var key = await subtle.deriveKey(
      { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: encoder.encode(INFO) },
      material,
      { name: "AES-GCM", length: 256 },
      false,
      ["encrypt"]
    );
    var iv = window.crypto.getRandomValues(new Uint8Array(12));
    var aad = encoder.encode(INFO + "|" + publishedKey.kid + "|" + userId + "|" + submissionKey);
    var sealed = await subtle.encrypt(
      { name: "AES-GCM", iv: iv, additionalData: aad },
      key,
      encoder.encode(JSON.stringify(contact))
    );
    var epk = await subtle.exportKey("jwk", ephemeral.publicKey);
    return {
      v: 1,
      kid: publishedKey.kid,
      uid: userId,
      key: submissionKey,
      epk: { kty: "EC", crv: "P-256", x: epk.x, y: epk.y },
      iv: b64url(iv),
      ct: b64url(sealed),
    };
  }

  window.sspSeal = seal;
})();
