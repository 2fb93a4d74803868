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
