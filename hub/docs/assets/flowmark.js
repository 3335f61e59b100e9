/* Loaded right after the flow map's inline SVG: two animation frames later the map is on screen. The performance mark
   is what benchmarks/docs.py and the browser tests time ("navigation start to flow map drawn"). */
requestAnimationFrame(function () {
  "use strict";
  requestAnimationFrame(function () {
    if (window.performance && performance.mark) { performance.mark("flowmap-drawn"); }
    document.documentElement.setAttribute("data-flowmap", "drawn");
  });
});
