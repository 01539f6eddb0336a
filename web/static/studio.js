// antenne studio: upload with a progress bar and the time left. Without
// this script the forms still work (plain multipart POST, no progress).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var fr = document.documentElement.lang !== "en";
  function size(n) {
    var u = fr ? ["o", "ko", "Mo", "Go"] : ["B", "kB", "MB", "GB"], i = 0;
    while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
    var s = i ? n.toFixed(1) : String(n);
    return (fr ? s.replace(".", ",") : s) + "\u00a0" + u[i];
  }
  function clock(s) {
    s = Math.max(0, Math.round(s));
    var m = Math.floor(s / 60), r = s % 60;
    return m + ":" + (r < 10 ? "0" : "") + r;
  }
  document.querySelectorAll("form.upload").forEach(function (form) {
    var input = form.querySelector("input[type=file]");
    var box = form.querySelector(".progress");
    var bar = box && box.querySelector("progress");
    var text = box && box.querySelector("p");
    var errorBox = form.querySelector(".form-error");
    var drop = form.querySelector(".drop");
    if (drop && input) {
      ["dragenter", "dragover"].forEach(function (ev) {
        drop.addEventListener(ev, function (e) { e.preventDefault(); drop.classList.add("over"); });
      });
      ["dragleave", "drop"].forEach(function (ev) {
        drop.addEventListener(ev, function () { drop.classList.remove("over"); });
      });
      drop.addEventListener("drop", function (e) {
        e.preventDefault();
        if (e.dataTransfer && e.dataTransfer.files.length) { input.files = e.dataTransfer.files; }
      });
    }
    form.addEventListener("submit", function (e) {
      if (!window.XMLHttpRequest || !window.FormData || !box) { return; }
      e.preventDefault();
      var xhr = new XMLHttpRequest();
      var start = Date.now();
      box.hidden = false;
      if (errorBox) { errorBox.hidden = true; }
      form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      xhr.upload.addEventListener("progress", function (ev) {
        if (!ev.lengthComputable) { return; }
        var pct = Math.floor(100 * ev.loaded / ev.total);
        var elapsed = (Date.now() - start) / 1000;
        var left = ev.loaded > 0 ? elapsed * (ev.total - ev.loaded) / ev.loaded : 0;
        bar.value = pct;
        text.textContent = fr
          ? size(ev.loaded) + " sur " + size(ev.total) + " envoyés (" + pct + "\u00a0%), encore " + clock(left)
          : size(ev.loaded) + " of " + size(ev.total) + " sent (" + pct + "%), " + clock(left) + " left";
      });
      xhr.upload.addEventListener("load", function () {
        bar.value = 100;
        text.textContent = fr ? "Fichier reçu, traitement en cours…" : "File received, processing…";
      });
      xhr.addEventListener("load", function () {
        if (xhr.status >= 200 && xhr.status < 300 && xhr.responseURL) {
          window.location.assign(xhr.responseURL);
          return;
        }
        var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
        var msg = doc.querySelector(".form-error");
        box.hidden = true;
        form.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
        if (errorBox) {
          errorBox.textContent = msg ? msg.textContent : (fr ? "L'envoi a échoué (" : "Upload failed (") + xhr.status + ")";
          errorBox.hidden = false;
          errorBox.focus();
        }
      });
      xhr.addEventListener("error", function () {
        box.hidden = true;
        form.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
        if (errorBox) {
          errorBox.textContent = fr ? "La connexion a été coupée pendant l'envoi. Réessayez." : "The connection broke during the upload. Try again.";
          errorBox.hidden = false;
        }
      });
      xhr.open("POST", form.action);
      xhr.send(new FormData(form));
    });
  });
  // Copy buttons: data-copy names the field whose text to copy.
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var field = document.getElementById(button.getAttribute("data-copy"));
      if (!field) { return; }
      var label = button.textContent;
      var done = function () {
        button.textContent = button.getAttribute("data-done") || label;
        setTimeout(function () { button.textContent = label; }, 2000);
      };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(field.value).then(done, function () { field.select(); });
      } else {
        field.select();
        document.execCommand("copy");
        done();
      }
    });
  });
});
