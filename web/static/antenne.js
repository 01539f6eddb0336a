// antenne: chapter links seek the player on the page. Without this script
// they still work: #t=SECONDS opens the recording at that time.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
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
      player.focus();
    });
  });
  document.querySelectorAll(".copy").forEach(function (field) {
    field.addEventListener("focus", function () { field.select(); });
  });
});
