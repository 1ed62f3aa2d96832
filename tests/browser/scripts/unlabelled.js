// Form controls with no label, no aria-label and (for buttons) no text. Run by execute_script.
return [...document.querySelectorAll("input, select, textarea, button")]
  .filter((e) => e.type !== "hidden" && !(e.labels && e.labels.length) && !e.getAttribute("aria-label")
    && !(e.tagName === "BUTTON" && e.textContent.trim()))
  .map((e) => e.id || e.outerHTML.slice(0, 60));
