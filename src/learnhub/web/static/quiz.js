// The quiz attempt page: answers are saved as the learner goes (a JSON fetch to the page's
// own save route, with the form's CSRF token in the X-CSRF-Token header), and the server's
// deadline is shown as a countdown; at zero the form is submitted, and the server grades
// what it has (past the deadline it closes the attempt on the answers saved). Without
// JavaScript the "Save answers" and "Submit" buttons do the same.
"use strict";

(() => {
  const form = document.getElementById("attempt-form");
  if (!form) return;
  const status = document.getElementById("save-status");
  const token = form.elements.namedItem("csrf_token").value;
  const submitButton = document.getElementById("submit-attempt");
  let queue = Promise.resolve();
  let typingTimer = null;
  let closed = false;

  function say(text) {
    status.textContent = text;
  }

  // The same answers the form would post: every question, so a cleared one is cleared.
  function answers() {
    const data = new FormData(form);
    return data.getAll("question").map((id) => {
      const text = form.elements.namedItem("text-" + id);
      return {
        question_id: id,
        option_ids: data.getAll("option-" + id),
        text: text ? text.value : null,
      };
    });
  }

  async function send(keepalive) {
    if (closed) return;
    say("Saving…");
    try {
      const response = await fetch(form.dataset.saveUrl, {
        method: "POST",
        credentials: "same-origin",
        keepalive,
        // A session that ended answers with a redirect to the login page: not a save.
        redirect: "manual",
        headers: {
          "Content-Type": "application/json",
          "Accept": "application/json",
          "X-CSRF-Token": token,
        },
        body: JSON.stringify({ answers: answers() }),
      });
      if (response.type === "opaqueredirect" || response.status === 403) {
        say("Your session has ended or this page expired: your latest answers are not saved. " +
            "Log in again in another tab, then press Save answers.");
      } else if (response.ok) {
        say("All answers saved.");
      } else if (response.status === 409) {
        closed = true;
        say("This attempt is closed. Reload the page to see your result.");
      } else {
        say("Your answers could not be saved. Use the Save answers button.");
      }
    } catch (error) {
      say("You seem to be offline: your latest answers are not saved yet.");
    }
  }

  // Saves run one after another, in the order the answers changed.
  function save(keepalive = false) {
    clearTimeout(typingTimer);
    typingTimer = null;
    queue = queue.then(() => send(keepalive));
    return queue;
  }

  form.addEventListener("change", () => save());
  form.addEventListener("input", (event) => {
    if (event.target.type !== "text") return;
    say("Unsaved changes…");
    clearTimeout(typingTimer);
    typingTimer = setTimeout(save, 800);
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden" && typingTimer) save(true);
  });
  form.addEventListener("submit", () => {
    closed = true; // the form itself carries every answer now
    clearTimeout(typingTimer);
  });

  const countdown = document.getElementById("countdown");
  if (!countdown) return;
  const shown = countdown.querySelector(".countdown-time");
  // The server's remaining seconds, counted on this page's monotonic clock: a wrong clock
  // on the learner's computer does not move the deadline.
  const end = performance.now() + Number(countdown.dataset.remainingSeconds) * 1000;
  const warnings = new Set([300, 60]);

  function format(seconds) {
    const minutes = Math.floor(seconds / 60);
    const rest = String(seconds % 60).padStart(2, "0");
    return minutes >= 60
      ? `${Math.floor(minutes / 60)}:${String(minutes % 60).padStart(2, "0")}:${rest}`
      : `${minutes}:${rest}`;
  }

  function tick() {
    const left = Math.max(0, Math.ceil((end - performance.now()) / 1000));
    shown.textContent = format(left);
    if (left <= 60) countdown.classList.add("countdown-low");
    for (const mark of warnings) {
      if (left <= mark && left > 0) {
        warnings.delete(mark);
        say(mark >= 120 ? `${mark / 60} minutes left.` : "One minute left.");
      }
    }
    if (left === 0) {
      clearInterval(timer);
      say("Time is up: submitting your answers.");
      if (!closed) form.requestSubmit(submitButton);
    }
  }

  const timer = setInterval(tick, 1000);
  tick();
})();
