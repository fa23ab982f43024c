/* The outreach screen: counters, a sealed outbox in IndexedDB, and the sync.
   Kept on the phone: the setup (sites, zones, items, the public key: no participant
   data), sealed contacts (unreadable here), the shift's tally (counts only) and the
   shift's site and zone. Never a code in plain text. */
(function () {
  "use strict";
  var root = document.getElementById("outreach");
  if (!root) return;
  var statusLine = document.getElementById("outreach-status");
  var form = document.getElementById("contact-form");
  var codeInput = document.getElementById("code");
  var siteSelect = document.getElementById("shift-site");
  var zoneSelect = document.getElementById("shift-zone");
  var reasonField = document.getElementById("reason-field");
  var reasonSelect = document.getElementById("naloxone-reason");
  var errorLine = document.getElementById("contact-error");
  var quickBox = document.getElementById("quick-items");
  var outboxCount = document.getElementById("outbox-count");
  var results = document.getElementById("sync-results");
  var setup = null;
  var counts = {};
  var syncing = false;
  var BATCH = 50;
  /* The words shown, from the page (data-* of #outreach-words), in its language; the
     service worker keeps the page, so they are there offline too. */
  var words = (document.getElementById("outreach-words") || root).dataset;

  function fill(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (whole, name) {
      return name in values ? String(values[name]) : whole;
    });
  }
  function counted(one, other, n) { return fill(n === 1 ? one : other, { num: n }); }

  function say(text) { statusLine.textContent = text; }

  /* --- IndexedDB: the outbox -------------------------------------------------------- */
  var dbPromise = new Promise(function (resolve, reject) {
    var request = indexedDB.open("ssp-outreach", 1);
    request.onupgradeneeded = function () {
      var store = request.result.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
      store.createIndex("uid", "uid");
    };
    request.onsuccess = function () { resolve(request.result); };
    request.onerror = function () { reject(request.error); };
  });

  function withStore(mode, work) {
    return dbPromise.then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction("outbox", mode);
        var result = work(tx.objectStore("outbox"));
        tx.oncomplete = function () { resolve(result && result.result !== undefined ? result.result : result); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  function queued(uid) {
    return withStore("readonly", function (store) { return store.index("uid").getAll(uid); })
      .then(function (rows) { return rows.sort(function (a, b) { return a.seq - b.seq; }); });
  }

  /* --- the setup, kept for offline use ------------------------------------------------ */
  function loadSetup() {
    return fetch(root.dataset.setupUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok || response.headers.get("Content-Type").indexOf("json") < 0) throw new Error("signed out");
        return response.json();
      })
      .then(function (data) {
        localStorage.setItem("ssp-outreach-setup", JSON.stringify(data));
        return data;
      })
      .catch(function () {
        var kept = localStorage.getItem("ssp-outreach-setup");
        if (!kept) throw new Error(words.needsConnection);
        return JSON.parse(kept);
      });
  }

  function option(select, value, text) {
    var element = document.createElement("option");
    element.value = value;
    element.textContent = text;
    select.appendChild(element);
  }

  function shiftKey() { return "ssp-outreach-shift-" + setup.user_id; }
  function shift() { return JSON.parse(localStorage.getItem(shiftKey()) || "{}"); }
  function saveShift(values) { localStorage.setItem(shiftKey(), JSON.stringify(values)); }

  function itemById(id) {
    for (var i = 0; i < setup.items.length; i++) if (setup.items[i].id === id) return setup.items[i];
    return null;
  }

  function render() {
    siteSelect.innerHTML = "";
    setup.sites.forEach(function (site) { option(siteSelect, site.id, site.name); });
    zoneSelect.innerHTML = "";
    option(zoneSelect, "", words.noZone);
    setup.zones.forEach(function (zone) { option(zoneSelect, zone.id, zone.name); });
    reasonSelect.innerHTML = "";
    option(reasonSelect, "", words.choose);
    setup.reasons.forEach(function (reason) { option(reasonSelect, reason.value, reason.label); });
    var chosen = shift();
    if (chosen.site) siteSelect.value = String(chosen.site);
    else if (setup.default_site) siteSelect.value = String(setup.default_site);
    if (chosen.zone) zoneSelect.value = String(chosen.zone);
    renderQuickItems();
    renderTally();
  }

  function currentSite() {
    var id = parseInt(siteSelect.value, 10);
    for (var i = 0; i < setup.sites.length; i++) if (setup.sites[i].id === id) return setup.sites[i];
    return setup.sites[0];
  }

  function renderQuickItems() {
    quickBox.innerHTML = "";
    var site = currentSite();
    (site ? site.quick : []).forEach(function (id) {
      var item = itemById(id);
      if (!item) return;
      var row = document.createElement("div");
      row.className = "counter";
      row.dataset.counter = "item-" + item.id;
      if (item.category === "syringe") row.dataset.big = "10";
      var label = document.createElement("span");
      label.className = "counter-label";
      label.id = "item-label-" + item.id;
      label.textContent = item.name;
      row.appendChild(label);
      [["-1", "−1"], ["1", "+1"]].concat(item.category === "syringe" ? [["10", "+10"]] : [])
        .forEach(function (pair, index) {
          var button = document.createElement("button");
          button.type = "button";
          button.className = "tap";
          button.dataset.step = pair[0];
          button.textContent = pair[0] === "-1" ? "−" : pair[0] === "1" ? "+" : "+10";
          button.setAttribute("aria-label", pair[1] + " " + item.name);
          row.appendChild(button);
          if (index === 0) {
            var value = document.createElement("output");
            value.className = "tap-value";
            value.setAttribute("aria-labelledby", label.id);
            value.textContent = "0";
            row.appendChild(value);
          }
        });
      quickBox.appendChild(row);
    });
    resetCounts();
  }

  function resetCounts() {
    counts = { people: 1, collected: 0, others: 0 };
    Array.prototype.forEach.call(root.querySelectorAll("[data-counter]"), function (row) {
      var name = row.dataset.counter;
      if (!(name in counts)) counts[name] = 0;
      row.querySelector(".tap-value").textContent = String(counts[name]);
    });
    codeInput.value = "";
    reasonSelect.value = "";
    reasonField.hidden = true;
    errorLine.hidden = true;
  }

  function naloxoneGiven() {
    return setup.items.some(function (item) {
      return item.category === "naloxone" && counts["item-" + item.id] > 0;
    });
  }

  root.addEventListener("click", function (event) {
    var button = event.target.closest("button.tap");
    if (!button) return;
    var row = button.closest("[data-counter]");
    var name = row.dataset.counter;
    var minimum = name === "people" ? 1 : 0;
    counts[name] = Math.max(minimum, (counts[name] || 0) + parseInt(button.dataset.step, 10));
    row.querySelector(".tap-value").textContent = String(counts[name]);
    reasonField.hidden = !naloxoneGiven();
  });

  siteSelect.addEventListener("change", function () {
    saveShift({ site: siteSelect.value, zone: zoneSelect.value });
    renderQuickItems();
  });
  zoneSelect.addEventListener("change", function () {
    saveShift({ site: siteSelect.value, zone: zoneSelect.value });
  });

  /* --- the tally: counts only ------------------------------------------------------- */
  function tallyKey() { return "ssp-outreach-tally-" + setup.user_id; }
  function tally() {
    return JSON.parse(localStorage.getItem(tallyKey()) || '{"contacts":0,"people":0,"out":0,"in":0,"naloxone":0}');
  }
  function renderTally() {
    var values = tally();
    Object.keys(values).forEach(function (name) {
      var cell = root.querySelector('[data-tally="' + name + '"]');
      if (cell) cell.textContent = String(values[name]);
    });
  }
  document.getElementById("new-shift").addEventListener("click", function () {
    localStorage.removeItem(tallyKey());
    renderTally();
  });

  /* --- saving a contact: sealed, then queued ----------------------------------------- */
  function newKey() {
    if (window.crypto.randomUUID) return window.crypto.randomUUID();
    var bytes = window.crypto.getRandomValues(new Uint8Array(16));
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!setup) return;
    var code = codeInput.value.trim();
    var items = {};
    var reasons = {};
    var out = 0;
    var naloxone = 0;
    setup.items.forEach(function (item) {
      var quantity = counts["item-" + item.id] || 0;
      if (!quantity) return;
      items[item.id] = quantity;
      if (item.category === "syringe") out += quantity;
      if (item.category === "naloxone") {
        naloxone += quantity;
        reasons[item.id] = reasonSelect.value;
      }
    });
    if (naloxone && !reasonSelect.value) {
      errorLine.textContent = words.chooseReason;
      errorLine.hidden = false;
      reasonSelect.focus();
      return;
    }
    if (code && counts.people > 1) {
      errorLine.textContent = words.codeIsOnePerson;
      errorLine.hidden = false;
      return;
    }
    var contact = {
      code: code || null,
      anonymous: !code,
      people: counts.people,
      site_id: parseInt(siteSelect.value, 10),
      zone_id: zoneSelect.value ? parseInt(zoneSelect.value, 10) : null,
      occurred_at: new Date().toISOString(),
      items: items,
      reasons: reasons,
      collected: counts.collected,
      others: counts.others,
    };
    var submissionKey = newKey();
    var people = code ? 1 : counts.people;
    var collected = counts.collected;
    resetCounts();  // the code leaves the screen at once
    window.sspSeal(contact, setup.key, setup.user_id, submissionKey)
      .then(function (envelope) {
        contact = null;
        return withStore("readwrite", function (store) {
          store.add({ uid: setup.user_id, key: submissionKey, envelope: envelope, state: "queued" });
        });
      })
      .then(function () {
        var values = tally();
        values.contacts += 1;
        values.people += people;
        values.out += out;
        values.in += collected;
        values.naloxone += naloxone;
        localStorage.setItem(tallyKey(), JSON.stringify(values));
        renderTally();
        say(words.contactKept);
        return refreshOutbox().then(sync);
      })
      .catch(function (error) { say(fill(words.notKept, { reason: error.message })); });
  });

  /* --- the sync ------------------------------------------------------------------- */
  function refreshOutbox() {
    return queued(setup.user_id).then(function (rows) {
      var waiting = rows.filter(function (row) { return row.state === "queued"; }).length;
      var refused = rows.length - waiting;
      outboxCount.textContent =
        (waiting ? counted(words.waitingOne, words.waitingOther, waiting) : words.nothingWaiting) +
        (refused ? " " + counted(words.refusedOne, words.refusedOther, refused) : "");
      root.dataset.waiting = String(waiting);
      return rows;
    });
  }

  function show(result) {
    var line = document.createElement("li");
    var names = { saved: words.statusSaved, already_saved: words.statusAlreadySaved, held: words.statusHeld, refused: words.statusRefused };
    var status = names[result.status] || result.status;
    line.textContent = result.message ? fill(words.result, { status: status, message: result.message }) : status;
    results.insertBefore(line, results.firstChild);
    while (results.children.length > 20) results.removeChild(results.lastChild);
  }

  function csrfToken() {
    return (setup && setup.csrf_token) || document.querySelector('meta[name="csrf-token"]').content;
  }

  function sendBatch(rows) {
    return fetch(root.dataset.syncUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ contacts: rows.map(function (row) { return row.envelope; }) }),
    }).then(function (response) {
      if (response.status === 400 || response.status === 401 || response.redirected) {
        throw new Error(words.signInAgain);
      }
      if (!response.ok) throw new Error(fill(words.serverAnswered, { status: response.status }));
      return response.json();
    }).then(function (answer) {
      var done = {};
      answer.results.forEach(function (result, index) {
        show(result);
        if (result.status === "refused") done[rows[index].seq] = "refused";
        else done[rows[index].seq] = "gone";
      });
      return withStore("readwrite", function (store) {
        rows.forEach(function (row) {
          if (done[row.seq] === "gone") store.delete(row.seq);
          else if (done[row.seq] === "refused") { row.state = "refused"; store.put(row); }
        });
      });
    });
  }

  function sync() {
    if (syncing || !setup || !navigator.onLine) return Promise.resolve();
    syncing = true;
    return loadSetup().then(function (fresh) { setup = fresh; })
      .then(function () { return queued(setup.user_id); })
      .then(function (rows) {
        var waiting = rows.filter(function (row) { return row.state === "queued"; });
        var chain = Promise.resolve();
        for (var i = 0; i < waiting.length; i += BATCH) {
          (function (batch) { chain = chain.then(function () { return sendBatch(batch); }); })(waiting.slice(i, i + BATCH));
        }
        return chain.then(function () { if (waiting.length) say(words.sent); });
      })
      .catch(function (error) {
        say(error instanceof TypeError ? words.noConnection : error.message);
      })
      .then(function () { syncing = false; return refreshOutbox(); });
  }

  document.getElementById("send-now").addEventListener("click", sync);
  window.addEventListener("online", sync);

  /* --- signing out with contacts waiting -------------------------------------------- */
  Array.prototype.forEach.call(document.querySelectorAll('form[action$="/sign-out"]'), function (signOut) {
    signOut.addEventListener("submit", function (event) {
      var waiting = parseInt(root.dataset.waiting || "0", 10);
      if (waiting && !window.confirm(counted(words.signOutOne, words.signOutOther, waiting))) {
        event.preventDefault();
      }
    });
  });

  /* --- start ------------------------------------------------------------------------ */
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(root.dataset.swUrl, { scope: "/outreach/" }).catch(function () {});
  }
  loadSetup()
    .then(function (data) {
      setup = data;
      render();
      say(navigator.onLine ? words.ready : words.offline);
      return refreshOutbox().then(sync);
    })
    .catch(function (error) { say(error.message); });
})();
