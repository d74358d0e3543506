// Civique front-end: confirmations and the streaming chat. Model output arrives as plain text
// while streaming (inserted with textContent) and as server-sanitised HTML when done.
"use strict";

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
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
  let source = null;
  let currentReply = null;

  textarea.value = localStorage.getItem(draftKey) || "";
  textarea.addEventListener("input", () => localStorage.setItem(draftKey, textarea.value));
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  function say(message, isError, retryId) {
    status.textContent = "";
    status.className = isError ? "status alert error" : "status";
    if (!message) return;
    const text = document.createElement("span");
    text.textContent = message;
    status.appendChild(text);
    if (retryId) {
      const retry = document.createElement("button");
      retry.type = "button";
      retry.className = "secondary small";
      retry.textContent = root.dataset.msgRetry;
      retry.addEventListener("click", () => regenerate(retryId));
      status.appendChild(document.createTextNode(" "));
      status.appendChild(retry);
    }
  }

  function busy(on) {
    stopButton.hidden = !on;
    sendButton.disabled = on;
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

  function addRegenerate(item, id) {
    list.querySelectorAll(".regenerate").forEach((b) => b.remove());
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary small regenerate";
    button.dataset.id = id;
    button.textContent = list.dataset.regenerateLabel || "↻";
    item.appendChild(button);
  }

  async function post(url, data) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "X-CSRF-Token": csrf, Accept: "application/json" },
      body: data,
    });
    let payload = {};
    try { payload = await response.json(); } catch (e) { payload = {}; }
    if (response.status === 401) {
      say(root.dataset.msgSession, true);
      window.setTimeout(() => { window.location = payload.error && payload.error.redirect || "/login"; }, 1500);
      throw new Error("session");
    }
    if (!response.ok) {
      say(payload.error ? payload.error.message : root.dataset.msgNetwork, true);
      throw new Error("refused");
    }
    return payload;
  }

  function stream(replyId, item) {
    const body = item.querySelector(".msg-body");
    currentReply = replyId;
    busy(true);
    say("");
    source = new EventSource("/chat/messages/" + replyId + "/stream");
    let received = "";
    source.addEventListener("queued", (e) => say(JSON.parse(e.data).message, false));
    source.addEventListener("delta", (e) => {
      if (!received) say("");
      received += JSON.parse(e.data).text;
      body.textContent = received;
      body.scrollIntoView({ block: "end" });
    });
    source.addEventListener("done", (e) => {
      const data = JSON.parse(e.data);
      body.innerHTML = data.html;
      finish(item, replyId);
      if (data.status === "stopped") say(root.dataset.msgStopped, false);
    });
    source.addEventListener("error", (e) => {
      if (e.data) {
        const data = JSON.parse(e.data);
        if (data.html) body.innerHTML = data.html;
        say(data.message, true, replyId);
      } else if (source.readyState !== EventSource.CLOSED) {
        say(root.dataset.msgNetwork, true, replyId);
      }
      finish(item, replyId);
    });
  }

  function finish(item, replyId) {
    if (source) source.close();
    source = null;
    currentReply = null;
    busy(false);
    addRegenerate(item, replyId);
    textarea.focus();
  }

  async function regenerate(id) {
    const data = new FormData();
    data.append("model_id", modelSelect.value);
    try {
      const payload = await post("/chat/messages/" + id + "/regenerate", data);
      const old = document.getElementById("m" + id);
      const label = old ? old.querySelector(".msg-role").textContent : "";
      if (old) old.remove();
      stream(payload.reply_id, bubble("assistant", payload.reply_id, label));
    } catch (e) { /* already reported */ }
  }

  list.addEventListener("click", (event) => {
    const button = event.target.closest(".regenerate");
    if (button && !currentReply) regenerate(button.dataset.id);
  });

  stopButton.addEventListener("click", async () => {
    if (!currentReply) return;
    const id = currentReply;
    try { await post("/chat/messages/" + id + "/stop", new FormData()); } catch (e) { /* reported */ }
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (currentReply) return;
    const data = new FormData(form);
    try {
      const payload = await post(form.action, data);
      const you = list.dataset.youLabel;
      const question = bubble("user", payload.question_id, you);
      question.querySelector(".msg-body").innerHTML = payload.question_html;
      textarea.value = "";
      localStorage.removeItem(draftKey);
      if (payload.title) document.getElementById("conv-title").textContent = payload.title;
      stream(payload.reply_id, bubble("assistant", payload.reply_id, list.dataset.assistantLabel));
    } catch (e) { /* reported in the status line */ }
  });

  const last = list.lastElementChild;
  if (last && last.classList.contains("assistant") && last.dataset.status === "pending") {
    stream(last.dataset.id, last);
  }
})();
