// Civique front-end: confirmations, the "back" button and the streaming chat. Model output
// arrives as plain text while streaming (inserted with textContent) and as server-sanitised HTML
// when done.
"use strict";

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});

// The error page's "Back" button: a script, because the CSP forbids `javascript:` links.
document.querySelectorAll("[data-history-back]").forEach((button) => {
  if (window.history.length < 2) return;
  button.hidden = false;
  button.addEventListener("click", () => window.history.back());
});

// The feedback widget, swapped by htmx after a click: keep the keyboard focus in it, on its
// status line (the button that had the focus was replaced).
document.addEventListener("htmx:afterSwap", (event) => {
  const target = event.detail && event.detail.target;
  if (!target || !target.id || !target.id.startsWith("fb")) return;
  const swapped = document.getElementById(target.id);
  const focus = swapped && (swapped.querySelector("[role=alert]") ||
                            swapped.querySelector(".feedback-status"));
  if (focus) focus.focus();
});

(function chat() {
  const root = document.getElementById("chat");
  if (!root) return;
  const csrf = document.body.dataset.csrf;
  const form = document.getElementById("composer");
  const textarea = document.getElementById("text");
  const modelSelect = document.getElementById("model");
  const list = document.getElementById("messages");
  const status = document.getElementById("chat-status");
  const stopButton = document.getElementById("stop");
  const sendButton = document.getElementById("send");
  const draftKey = "civique-draft-" + root.dataset.conversation;
  const labels = root.dataset;
  let source = null;
  let currentReply = null;

  // The script validates (and says why in the page) instead of the browser's bubble.
  form.noValidate = true;
  textarea.value = localStorage.getItem(draftKey) || "";
  textarea.addEventListener("input", () => {
    localStorage.setItem(draftKey, textarea.value);
    if (textarea.value.trim()) clearInvalid();
  });
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  // One live region for the chat. `quiet` announces to screen readers without showing the text
  // (used when the same words are already visible in the message itself).
  function say(message, options) {
    const opts = options || {};
    status.textContent = "";
    status.className = opts.error ? "status alert error" : "status";
    if (!message) return;
    const text = document.createElement("span");
    text.textContent = message;
    if (opts.quiet) {
      text.className = "visually-hidden";
      status.className = "status";
    }
    status.appendChild(text);
    if (opts.retry) {
      status.appendChild(document.createTextNode(" "));
      status.appendChild(actionButton(labels.msgRetry, "retry", opts.retry));
    }
  }

  function clearInvalid() {
    textarea.removeAttribute("aria-invalid");
    if (status.dataset.kind === "invalid") {
      delete status.dataset.kind;
      say("");
    }
  }

  function busy(on) {
    stopButton.hidden = !on;
    sendButton.disabled = on;
  }

  function actionButton(label, kind, id) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary small " + kind;
    button.dataset.id = id;
    button.textContent = label;
    return button;
  }

  function bubble(role, id, label) {
    const item = document.createElement("li");
    item.className = "msg " + role;
    item.id = "m" + id;
    item.dataset.id = id;
    const who = document.createElement("p");
    who.className = "msg-role";
    who.textContent = label;
    const body = document.createElement("div");
    body.className = "msg-body";
    item.append(who, body);
    list.appendChild(item);
    return item;
  }

  function note(item, className, text, role) {
    const p = document.createElement("p");
    p.className = className;
    p.textContent = text;
    if (role) p.setAttribute("role", role);
    item.appendChild(p);
  }

  function removeActions() {
    list.querySelectorAll(".regenerate").forEach((b) => b.remove());
  }

  async function post(url, data) {
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: { "X-CSRF-Token": csrf, Accept: "application/json" },
        body: data,
      });
    } catch (e) {
      say(labels.msgNetwork, { error: true });
      throw e;
    }
    let payload = {};
    try { payload = await response.json(); } catch (e) { payload = {}; }
    const code = payload.error && payload.error.code;
    if (response.status === 401 || code === "csrf") {
      // No session (or a stale token): log in again and come back to this page, not to the
      // POST URL; the draft waits in localStorage. A still-valid session bounces straight back.
      say(labels.msgSession, { error: true });
      const next = encodeURIComponent(window.location.pathname);
      window.setTimeout(() => { window.location = "/login?next=" + next; }, 1500);
      throw new Error("session");
    }
    if (!response.ok) {
      say(payload.error ? payload.error.message : labels.msgNetwork, { error: true });
      throw new Error("refused");
    }
    return payload;
  }

  function nearBottom() {
    const doc = document.documentElement;
    return window.innerHeight + window.scrollY >= doc.scrollHeight - 120;
  }

  function stream(replyId, item) {
    const body = item.querySelector(".msg-body");
    currentReply = replyId;
    item.dataset.status = "streaming";
    item.setAttribute("aria-busy", "true");
    body.classList.add("streaming");
    removeActions();
    busy(true);
    say("");
    source = new EventSource("/chat/messages/" + replyId + "/stream");
    let received = "";
    source.addEventListener("queued", (e) => say(JSON.parse(e.data).message));
    source.addEventListener("delta", (e) => {
      if (!received) say("");
      const follow = nearBottom();  // do not pull the page down while the user reads above
      received += JSON.parse(e.data).text;
      body.textContent = received;
      if (follow) item.scrollIntoView({ block: "end" });
    });
    source.addEventListener("done", (e) => {
      const data = JSON.parse(e.data);
      body.innerHTML = data.html;
      // Grounded replies: the server renders (and escapes) the checked citations.
      if (data.citations_html) body.insertAdjacentHTML("afterend", data.citations_html);
      // What was masked before the model saw the conversation (server-rendered, no values).
      if (data.privacy_html) item.insertAdjacentHTML("beforeend", data.privacy_html);
      // The link to the reply's output page (final text, validation, exports).
      if (data.output_html) {
        item.insertAdjacentHTML("beforeend", data.output_html);
        // Its feedback widget posts through htmx, which must see the new forms.
        if (window.htmx) window.htmx.process(item);
      }
      if (data.status === "stopped") note(item, "muted stopped-note", labels.msgStopped);
      finish(item, replyId, data.status === "stopped" ? "stopped" : "done");
      if (data.status === "stopped") say(labels.msgStopped, { quiet: true });
    });
    source.addEventListener("error", (e) => {
      if (e.data) {  // the server's own "error" event: the model failed
        const data = JSON.parse(e.data);
        if (data.html) body.innerHTML = data.html;
        note(item, "alert error", data.message);
        finish(item, replyId, "error");
        say(data.message, { quiet: true });
        return;
      }
      // The connection failed or dropped: the reply is kept on the server, reopen it on demand.
      finish(item, replyId, "pending", true);
      say(labels.msgNetwork, { error: true, retry: replyId });
    });
  }

  function finish(item, replyId, state, interrupted) {
    if (source) source.close();
    source = null;
    currentReply = null;
    item.dataset.status = state;
    item.removeAttribute("aria-busy");
    item.querySelector(".msg-body").classList.remove("streaming");
    busy(false);
    if (!interrupted) {
      const label = state === "error" ? labels.msgRetry : list.dataset.regenerateLabel;
      item.appendChild(actionButton(label, "regenerate", replyId));
    }
    textarea.focus();
  }

  async function regenerate(id) {
    const data = new FormData();
    data.append("model_id", modelSelect.value);
    try {
      const payload = await post("/chat/messages/" + id + "/regenerate", data);
      const old = document.getElementById("m" + id);
      const item = bubble("assistant", payload.reply_id, list.dataset.assistantLabel);
      if (old) old.replaceWith(item);
      stream(payload.reply_id, item);
    } catch (e) { /* already reported in the status line */ }
  }

  function reopen(id) {
    const item = document.getElementById("m" + id);
    if (item) stream(id, item);
  }

  list.addEventListener("click", (event) => {
    const button = event.target.closest(".regenerate");
    if (button && !currentReply) regenerate(button.dataset.id);
  });
  status.addEventListener("click", (event) => {
    const button = event.target.closest(".retry");
    if (button && !currentReply) reopen(button.dataset.id);
  });

  stopButton.addEventListener("click", async () => {
    if (!currentReply) return;
    try { await post("/chat/messages/" + currentReply + "/stop", new FormData()); } catch (e) { /* reported */ }
  });

  function showTitle(title) {
    document.getElementById("conv-title").textContent = title;
    const separator = document.title.indexOf(" · ");
    document.title = title + (separator >= 0 ? document.title.slice(separator) : "");
    const current = document.querySelector(".conv-list a[aria-current]");
    if (current) current.textContent = title;
    const input = document.getElementById("title");
    if (input && !input.value) input.value = title;
  }

  // Masking preview: before a message goes to a model not cleared for personal data, the agent
  // sees what will be replaced by placeholders, unticks false positives and adds what was missed.
  const masking = document.getElementById("masking");
  const maskingList = document.getElementById("masking-list");
  const maskingExtra = document.getElementById("masking-extra");
  const modelPrivacy = document.getElementById("model-privacy");

  function modelCleared() {
    const option = modelSelect.selectedOptions[0];
    return !option || option.dataset.cleared === "yes";
  }

  function showModelPrivacy() {
    modelPrivacy.textContent = modelCleared()
      ? modelPrivacy.dataset.cleared : modelPrivacy.dataset.uncleared;
  }
  modelSelect.addEventListener("change", () => { closeMasking(); showModelPrivacy(); });
  showModelPrivacy();

  function maskingItem(text, label, placeholder, extra) {
    const item = document.createElement("li");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = true;
    box.id = "mask-" + maskingList.children.length;
    box.dataset.text = text;
    if (extra) box.dataset.extra = "yes";
    const tag = document.createElement("label");
    tag.htmlFor = box.id;
    const kind = document.createElement("span");
    kind.className = "mask-kind";
    kind.textContent = label;
    const value = document.createElement("strong");
    value.textContent = "« " + text + " »";
    tag.append(kind, " ", value);
    if (placeholder) {
      const arrow = document.createElement("span");
      arrow.className = "mask-placeholder";
      arrow.textContent = " → " + placeholder;
      tag.appendChild(arrow);
    }
    item.append(box, " ", tag);
    maskingList.appendChild(item);
  }

  function openMasking(preview) {
    maskingList.textContent = "";
    document.getElementById("masking-message").textContent = preview.message;
    const seen = new Set();
    preview.findings.forEach((f) => {
      if (seen.has(f.text.toLowerCase())) return;  // one line per value: all its mentions
      seen.add(f.text.toLowerCase());
      const label = f.valid ? f.label : f.label + " (" + masking.dataset.possible + ")";
      maskingItem(f.text, label, f.placeholder, false);
    });
    masking.hidden = false;
    sendButton.hidden = true;
    document.getElementById("masking-title").focus();
  }

  function closeMasking() {
    masking.hidden = true;
    sendButton.hidden = false;
    maskingList.textContent = "";
  }

  function addExtra() {
    const text = maskingExtra.value.trim();
    if (!text) return;
    maskingItem(text, masking.dataset.byYou, "", true);
    maskingExtra.value = "";
    maskingExtra.focus();
  }
  document.getElementById("masking-add").addEventListener("click", addExtra);
  maskingExtra.addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); addExtra(); }
  });
  document.getElementById("masking-cancel").addEventListener("click", () => {
    closeMasking();
    textarea.focus();
  });
  document.getElementById("masking-send").addEventListener("click", () => {
    const data = new FormData(form);
    maskingList.querySelectorAll("input[type=checkbox]").forEach((box) => {
      if (box.dataset.extra && box.checked) data.append("extra", box.dataset.text);
      if (!box.dataset.extra && !box.checked) data.append("keep", box.dataset.text);
    });
    closeMasking();
    send(data);
  });
  textarea.addEventListener("input", () => { if (!masking.hidden) closeMasking(); });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (currentReply || !masking.hidden) return;
    if (!textarea.value.trim()) {
      textarea.setAttribute("aria-invalid", "true");
      say(labels.msgEmpty, { error: true });
      status.dataset.kind = "invalid";
      textarea.focus();
      return;
    }
    if (!modelCleared()) {
      const check = new FormData();
      check.append("text", textarea.value);
      check.append("model_id", modelSelect.value);
      let preview;
      try {
        preview = await post("/chat/" + root.dataset.conversation + "/privacy", check);
      } catch (e) { return; /* reported in the status line */ }
      if (preview.applies && preview.findings.length) {
        openMasking(preview);
        return;
      }
    }
    send(new FormData(form));
  });

  async function send(data) {
    try {
      const payload = await post(form.action, data);
      const question = bubble("user", payload.question_id, list.dataset.youLabel);
      question.querySelector(".msg-body").innerHTML = payload.question_html;
      textarea.value = "";
      localStorage.removeItem(draftKey);
      if (payload.title) showTitle(payload.title);
      stream(payload.reply_id, bubble("assistant", payload.reply_id, list.dataset.assistantLabel));
    } catch (e) { /* reported in the status line */ }
  }

  const last = list.lastElementChild;
  // A reply still running (or cut by a reload) is resumed; the server replays a finished one.
  const running = ["pending", "streaming", "stopping"];
  if (last && last.classList.contains("assistant") && running.includes(last.dataset.status)) {
    stream(last.dataset.id, last);
  }
})();

// Tool runs (forms marked data-tool-stream): the draft streams into the page as plain text
// (textContent), then the browser opens the output page. Without this script the form posts
// normally and the server redirects to the output once the run is over.
(function toolStreams() {
  const csrf = document.body.dataset.csrf;
  document.querySelectorAll("form[data-tool-stream]").forEach((form) => {
    const live = document.getElementById(form.dataset.toolStream);
    if (!live || !window.fetch || !window.TextDecoder) return;
    const status = live.querySelector(".status");
    const output = live.querySelector(".tool-stream");
    const button = form.querySelector("button[type=submit]:not([data-refresh])");
    const refresh = form.querySelector("button[data-refresh]");

    // A choice other fields depend on (a letter's template): the form's groups of fields are
    // fetched again for it, the values typed kept; the button is for pages without script.
    form.querySelectorAll("select[data-refresh-fields]").forEach((select) => {
      if (!refresh || !window.DOMParser) return;
      refresh.parentElement.remove();
      select.addEventListener("change", async () => {
        const data = new FormData(form);
        data.set("_refresh", "1");
        let html;
        try {
          const response = await fetch(form.action, { method: "POST", headers: { "X-CSRF-Token": csrf }, body: data });
          html = await response.text();
        } catch (e) { return; }
        const fresh = new DOMParser().parseFromString(html, "text/html");
        form.querySelectorAll("fieldset.field-group").forEach((group) => {
          const next = fresh.getElementById(group.id);
          if (next) group.replaceWith(document.importNode(next, true));
        });
        const note = form.querySelector(".refresh-status");
        if (note) note.textContent = note.dataset.message;
      });
    });

    function say(message, isError) {
      status.textContent = message || "";
      status.className = isError ? "status alert error" : "status";
    }

    function showFieldErrors(fields) {
      form.querySelectorAll(".field-error").forEach((p) => { p.hidden = true; p.textContent = ""; });
      form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
      let first = null;
      Object.keys(fields || {}).forEach((name) => {
        // Field names may hold a dot (a letter's "variables.recipient"): escape them.
        const input = form.querySelector("#" + CSS.escape("field-" + name));
        const error = form.querySelector("#" + CSS.escape("field-" + name + "-error"));
        if (error) { error.textContent = fields[name]; error.hidden = false; }
        if (input) {
          input.setAttribute("aria-invalid", "true");
          first = first || input;
        }
      });
      if (first) first.focus();
    }

    function handle(kind, data) {
      if (kind === "part" && data.parts > 1) say(data.message);
      else if (kind === "queued") say(data.message);
      else if (kind === "delta") {
        if (data.part > 1 && output.dataset.part !== String(data.part)) output.textContent += "\n\n";
        output.dataset.part = String(data.part);
        output.textContent += data.text;
      } else if (kind === "done") {
        say(data.message);
        window.location.assign(data.url);
      } else if (kind === "error") {
        say(data.message, true);
        button.disabled = false;
        output.removeAttribute("aria-busy");
      }
    }

    async function read(response) {
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const kind = (block.match(/^event: (.*)$/m) || [])[1];
          const data = (block.match(/^data: (.*)$/m) || [])[1];
          if (kind && data) handle(kind, JSON.parse(data));
        }
      }
    }

    form.addEventListener("submit", async (event) => {
      // A "show the fields of this choice" button reloads the form: let it post normally.
      if (event.submitter && event.submitter.hasAttribute("data-refresh")) return;
      event.preventDefault();
      live.hidden = false;
      output.textContent = "";
      output.setAttribute("aria-busy", "true");
      delete output.dataset.part;
      say(live.dataset.running || "…");
      button.disabled = true;
      let response;
      try {
        response = await fetch(form.action, {
          method: "POST",
          headers: { "X-CSRF-Token": csrf, Accept: "text/event-stream" },
          body: new FormData(form),
        });
      } catch (e) {
        say(document.body.dataset.msgNetwork || "Network error", true);
        button.disabled = false;
        return;
      }
      if (!response.ok) {
        let payload = {};
        try { payload = await response.json(); } catch (e) { payload = {}; }
        const error = payload.error || {};
        showFieldErrors(error.fields);
        say(error.message || String(response.status), true);
        live.hidden = !output.textContent;
        button.disabled = false;
        return;
      }
      showFieldErrors({});
      try { await read(response); } catch (e) { say(document.body.dataset.msgNetwork || "Network error", true); button.disabled = false; }
    });
  });
})();
