// antenne studio: upload with a progress bar and the time left. Without
// this script the forms still work (plain multipart POST, no progress).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var fr = document.documentElement.lang !== "en";
  // Binary units, written like humanSize in web/i18n.go.
  function size(n) {
    var u = fr ? ["o", "Kio", "Mio", "Gio", "Tio"] : ["B", "KiB", "MiB", "GiB", "TiB"], i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    var s = i ? n.toFixed(1).replace(/\.0$/, "") : String(n);
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
  // Processing episodes: data-progress is the URL of their state (JSON);
  // poll it and show the state until the episode is ready or failed.
  document.querySelectorAll("[data-progress]").forEach(function (el) {
    var url = el.getAttribute("data-progress");
    function poll() {
      var xhr = new XMLHttpRequest();
      xhr.open("GET", url);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.addEventListener("load", function () {
        var p;
        try { p = JSON.parse(xhr.responseText); } catch (e) { p = null; }
        if (xhr.status !== 200 || !p) { setTimeout(poll, 5000); return; }
        el.textContent = p.label;
        el.className = "status " + p.status;
        el.setAttribute("data-state", p.processing.state);
        if (p.processing.state === "done" || p.processing.state === "failed") {
          el.removeAttribute("data-progress");
          if (p.public_url) {
            var a = document.createElement("a");
            a.href = p.public_url;
            a.className = "public";
            a.textContent = fr ? "Voir la page publique" : "See the public page";
            el.parentNode.appendChild(document.createTextNode(" · "));
            el.parentNode.appendChild(a);
          }
          if (p.processing.state === "failed" && document.getElementById("status") === el) {
            // Shows the retry button; without ?uploaded=1, whose green
            // notice has no place above the failure.
            window.location.replace(window.location.pathname);
          }
          return;
        }
        setTimeout(poll, 1500);
      });
      xhr.addEventListener("error", function () { setTimeout(poll, 5000); });
      xhr.send();
    }
    setTimeout(poll, 1000);
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
