// antenne: chapter and transcript links seek the player on the page, and
// the chapter and the passage being played are highlighted as it plays.
// Without this script the links still work: #t=SECONDS opens the
// recording at that time.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".copy").forEach(function (field) {
    field.addEventListener("focus", function () { field.select(); });
  });
  var player = document.getElementById("player");
  if (!player) { return; }
  document.querySelectorAll("a[data-seek]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var t = parseFloat(link.getAttribute("data-seek"));
      if (isNaN(t)) { return; }
      event.preventDefault();
      player.currentTime = t;
      var played = player.play();
      if (played && played.catch) { played.catch(function () {}); }
      follow();
    });
  });
  // Items are the chapters (li[data-start]) and the transcript's cues
  // (.cue[data-start][data-end]); the current one gets aria-current.
  var chapters = Array.prototype.slice.call(document.querySelectorAll(".chapters li[data-start]"));
  var cues = Array.prototype.slice.call(document.querySelectorAll(".cue[data-start]"));
  var box = document.getElementById("cues");
  var current = { chapter: null, cue: null };
  function start(el) { return parseFloat(el.getAttribute("data-start")); }
  function mark(kind, el) {
    if (current[kind] === el) { return false; }
    if (current[kind]) { current[kind].removeAttribute("aria-current"); }
    if (el) { el.setAttribute("aria-current", "true"); }
    current[kind] = el;
    return true;
  }
  function follow() {
    var t = player.currentTime, chapter = null, cue = null, i;
    for (i = 0; i < chapters.length; i++) {
      if (start(chapters[i]) <= t) { chapter = chapters[i]; }
    }
    for (i = 0; i < cues.length; i++) {
      var end = parseFloat(cues[i].getAttribute("data-end"));
      if (start(cues[i]) <= t && (isNaN(end) || end <= 0 || t < end)) { cue = cues[i]; }
    }
    mark("chapter", chapter);
    // The transcript scrolls inside its own box, never the page.
    if (mark("cue", cue) && cue && box) {
      var top = cue.offsetTop - box.offsetTop;
      if (top < box.scrollTop || top > box.scrollTop + box.clientHeight - cue.offsetHeight) {
        box.scrollTop = Math.max(0, top - box.clientHeight / 3);
      }
    }
  }
  if (chapters.length || cues.length) {
    player.addEventListener("timeupdate", follow);
    player.addEventListener("seeked", follow);
  }
});
