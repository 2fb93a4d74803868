// The tutor chat, progressively enhanced. Without JavaScript the question form posts and the
// page comes back with the answer. With it, the question goes by fetch as JSON (the page's
// CSRF token in the X-CSRF-Token header) and the answer, with its citation links, is
// appended in place; a problem (the daily limit, a tutor that cannot answer) is shown above
// the form. Anything unexpected (a session that ended, a refused token) falls back to
// posting the form, whose page says what happened.
"use strict";

(() => {
  const form = document.getElementById("ask-form");
  const list = document.getElementById("messages");
  if (!form || !list) return;
  const problem = document.getElementById("ask-problem");
  const textarea = form.querySelector("textarea[name=content]");
  const button = form.querySelector("button[type=submit]");
  let sending = false;

  function messageItem(message) {
    const item = document.createElement("li");
    item.className = "message " + (message.mine ? "message-mine" : "message-tutor");
    const who = document.createElement("p");
    who.className = "message-who";
    who.textContent = (message.mine ? "You" : "Tutor") + " ";
    const time = document.createElement("span");
    time.className = "muted";
    time.textContent = message.time;
    who.appendChild(time);
    const text = document.createElement("p");
    text.className = "message-text";
    text.textContent = message.content;
    item.append(who, text);
    if (message.citations.length) {
      const label = document.createElement("p");
      label.className = "message-sources";
      label.textContent = "Sources:";
      const sources = document.createElement("ul");
      sources.className = "citations";
      for (const citation of message.citations) {
        const entry = document.createElement("li");
        if (citation.href) {
          const link = document.createElement("a");
          link.href = citation.href;
          link.textContent = citation.label;
          entry.appendChild(link);
        } else {
          entry.textContent = citation.label;
        }
        sources.appendChild(entry);
      }
      item.append(label, sources);
    }
    return item;
  }

  function sentence(text) {
    const trimmed = text.trim().replace(/\.$/, "");
    return trimmed ? trimmed[0].toUpperCase() + trimmed.slice(1) + "." : "";
  }

  function showProblem(text) {
    problem.textContent = text;
    problem.hidden = !text;
  }

  form.addEventListener("submit", async (event) => {
    if (sending) {
      event.preventDefault();
      return;
    }
    const content = textarea.value;
    if (!content.trim()) return; // the browser's own validation, or the page's message
    event.preventDefault();
    sending = true;
    button.disabled = true;
    const label = button.textContent;
    button.textContent = "Asking…";
    form.setAttribute("aria-busy", "true");
    showProblem("");
    const conversation = form.elements.conversation.value;
    let response;
    try {
      response = await fetch(form.dataset.scriptUrl, {
        method: "POST",
        credentials: "same-origin",
        redirect: "error",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRF-Token": form.elements.csrf_token.value,
        },
        body: JSON.stringify({ content, conversation_id: conversation || null }),
      });
    } catch (error) {
      response = null;
    }
    const type = response ? response.headers.get("content-type") || "" : "";
    if (response && response.ok && type.startsWith("application/json")) {
      const exchange = await response.json();
      const empty = document.getElementById("no-messages");
      if (empty) empty.remove();
      list.appendChild(messageItem(exchange.question));
      list.appendChild(messageItem(exchange.answer));
      form.elements.conversation.value = exchange.conversation_id;
      history.replaceState(null, "", exchange.conversation_url);
      textarea.value = "";
      textarea.focus();
    } else if (response && type.startsWith("application/problem+json") && response.status !== 422) {
      const detail = await response.json();
      showProblem(sentence(detail.detail || detail.title || "the tutor could not answer"));
      textarea.focus();
    } else {
      form.submit(); // the page itself says what happened (invalid input too)
      return;
    }
    sending = false;
    button.disabled = false;
    button.textContent = label;
    form.removeAttribute("aria-busy");
  });
})();
