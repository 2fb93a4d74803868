// LearnHub web app: progressive enhancement only. Without JavaScript every page works
// (the "Load more" link opens the next catalog page); with it, the next page's courses are
// appended in place and focus moves to the first new one.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  document.addEventListener("click", async (event) => {
    const link = event.target.closest("a#load-more");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
    const list = document.getElementById("course-cards");
    if (!list) return;
    event.preventDefault();
    link.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(link.href, { credentials: "same-origin" });
      if (!response.ok) throw new Error(String(response.status));
      const next = new DOMParser().parseFromString(await response.text(), "text/html");
      const cards = next.querySelectorAll("#course-cards > li");
      const first = cards[0];
      cards.forEach((card) => list.appendChild(document.adoptNode(card)));
      const more = next.getElementById("load-more");
      if (more) {
        link.href = more.href;
        link.removeAttribute("aria-busy");
      } else {
        link.parentElement.remove();
      }
      const target = first && first.querySelector("a");
      if (target) target.focus();
    } catch (error) {
      window.location.href = link.href; // fall back to the plain link
    }
  });
});

// The studio's video upload: a file past the size limit is named at once, before it is sent
// (the server refuses it too, with the same limit).
document.addEventListener("change", (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || input.type !== "file" || !input.dataset.maxBytes) return;
  const file = input.files && input.files[0];
  const limit = Number(input.dataset.maxBytes);
  const tooLarge = Boolean(file) && file.size > limit;
  input.setCustomValidity(
    tooLarge ? `This file is larger than the upload limit of ${Math.floor(limit / 1048576)} MB.` : ""
  );
  if (tooLarge) input.reportValidity();
});
