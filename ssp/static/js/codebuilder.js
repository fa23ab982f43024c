/* The code builder: turns the answers into the participant's code, in the browser only.
   The answer inputs have no name attribute, so they are never submitted. */
(function () {
  "use strict";

  function lettersOf(text) {
    // Drop accents (José -> JOSE), keep A-Z only.
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toUpperCase().replace(/[^A-Z]/g, "");
  }

  function digitsOf(text) {
    return text.replace(/[^0-9]/g, "");
  }

  function pad(text, length, filler) {
    while (text.length < length) text += filler;
    return text;
  }

  /* One part of the code, or "" while the answer is incomplete or impossible. */
  function part(kind, take, answer) {
    var value = answer.trim();
    if (!value) return "";
    if (kind === "letters") {
      var letters = lettersOf(value);
      return letters ? pad(letters.slice(0, take), take, "X") : "";
    }
    var digits = digitsOf(value);
    if (!digits) return "";
    if (kind === "day" || kind === "month") {
      var number = parseInt(digits, 10);
      var max = kind === "day" ? 31 : 12;
      if (number < 1 || number > max || digits.length > 2) return "";
      return (number < 10 ? "0" : "") + number;
    }
    if (kind === "year") {
      if (digits.length !== 4) return "";
      return digits.slice(4 - take);
    }
    return digits.length >= take ? digits.slice(0, take) : "";
  }

  function build(parts) {
    var code = "";
    for (var i = 0; i < parts.length; i++) {
      var piece = part(parts[i].kind, parts[i].take, parts[i].answer);
      if (!piece) return "";
      code += piece;
    }
    return code;
  }

  if (typeof module !== "undefined" && module.exports) {
    module.exports = { part: part, build: build };
    return;
  }

  var builder = document.getElementById("code-builder");
  var codeField = document.getElementById("code");
  var preview = document.getElementById("code-preview");
  if (!builder || !codeField) return;
  builder.hidden = false;
  var inputs = Array.prototype.slice.call(builder.querySelectorAll("input[data-kind]"));

  function update() {
    var code = build(inputs.map(function (input) {
      return { kind: input.dataset.kind, take: parseInt(input.dataset.take, 10), answer: input.value };
    }));
    preview.textContent = code || "…";
    if (code) codeField.value = code;
  }

  inputs.forEach(function (input) { input.addEventListener("input", update); });
  // Enter in the last answer moves on to the code field rather than submitting nothing.
  builder.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      event.preventDefault();
      var index = inputs.indexOf(event.target);
      if (index >= 0 && index < inputs.length - 1) inputs[index + 1].focus();
      else codeField.focus();
    }
  });
  if (!codeField.value && inputs.length) inputs[0].focus();
})();
